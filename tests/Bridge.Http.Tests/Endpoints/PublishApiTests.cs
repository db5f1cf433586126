using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Bridge.Events;
using Bridge.DevKit;
using Bridge.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Bridge.Http.Tests.Endpoints;

/// <summary>The publish and health endpoints, over real HTTP, and every kind of bad input they must refuse.</summary>
public class PublishApiTests : IAsyncLifetime
{
    private ApiTestServer _server = null!;
    private HttpClient Client => _server.Client;

    public async Task InitializeAsync() =>
        _server = await ApiTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Publish:MaxBatchEvents"] = "5",
            ["Publish:MaxBatchBytes"] = "2048",
        });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_new_event_gets_201_and_a_duplicate_200_with_the_same_id()
    {
        var stream = TestNames.Stream("publish");

        using var created = await Api.PublishAsync(Client, stream, "first", key: "key-1");
        using var duplicate = await Api.PublishAsync(Client, stream, "first again", key: "key-1");
        using var second = await Api.PublishAsync(Client, stream, "second", type: "note");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var epoch = (await created.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("eventId").GetString()!.Split('.')[1];
        Assert.Matches("^[a-z0-9]{8}$", epoch);
        Assert.Equal($$"""{"stream":"{{stream}}","id":1,"eventId":"1.{{epoch}}"}""", await created.Content.ReadAsStringAsync());
        Assert.Equal($$"""{"stream":"{{stream}}","id":1,"eventId":"1.{{epoch}}"}""", await duplicate.Content.ReadAsStringAsync());
        Assert.Equal($$"""{"stream":"{{stream}}","id":2,"eventId":"2.{{epoch}}"}""", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_batch_is_stored_in_order_and_a_retried_batch_with_the_same_header_key_is_stored_once()
    {
        var stream = TestNames.Stream("batch");
        var batch = new
        {
            events = new object[]
            {
                new { type = "a", data = "one" },
                new { data = "two\nlines" },
                new { type = "c", data = "three", idempotencyKey = "own-key" },
            },
        };

        using var first = await PostBatchAsync(stream, JsonContent.Create(batch), "batch-1");
        using var retried = await PostBatchAsync(stream, JsonContent.Create(batch), "batch-1");

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        var results = (await retried.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("events").EnumerateArray()
            .Select(result => (result.GetProperty("id").GetInt64(), result.GetProperty("duplicate").GetBoolean())).ToList();
        Assert.Equal([(1L, true), (2L, true), (3L, true)], results);
        await using var replay = await SseConnection.OpenAsync(Client, $"/api/streams/{stream}/events?lastEventId=0");
        var events = await replay.ReadEventsAsync(3, Waits.Within(10));
        Assert.Equal(["a:one", "message:two\nlines", "c:three"], events.Select(e => $"{e.Type}:{e.Data}"));
    }

    [Theory]
    [InlineData("bad%20name", "invalid-stream-name")]
    [InlineData("slash%2Finside", "invalid-stream-name")]
    [InlineData("%C3%BCnicode", "invalid-stream-name")]
    public async Task A_bad_stream_name_is_400_problem_details_for_publish_and_subscribe(string stream, string code)
    {
        using var publish = await Api.PublishAsync(Client, stream, "x");
        using var subscribe = await Client.GetAsync($"/api/streams/{stream}/events");

        foreach (var response in new[] { publish, subscribe })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await Api.ProblemAsync(response);
            Assert.Equal($"urn:bridge:problem:{code}", problem.GetProperty("type").GetString());
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
        }
    }

    [Fact]
    public async Task A_stream_name_longer_than_128_characters_is_refused()
    {
        using var response = await Api.PublishAsync(Client, new string('s', 129), "x");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("128", (await Api.ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bridge.gap")]
    [InlineData("has space")]
    [InlineData("line%0Abreak")]
    public async Task A_bad_or_reserved_type_is_400(string type)
    {
        var stream = TestNames.Stream("bad-type");
        using var response = await Client.PostAsync($"/api/streams/{stream}/events?type={type}", new StringContent("x"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("urn:bridge:problem:invalid-event-type", (await Api.ProblemAsync(response)).GetProperty("type").GetString());
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Fact]
    public async Task An_empty_type_is_400_rather_than_stored_as_message()
    {
        var stream = TestNames.Stream("empty-type");
        using var single = await Client.PostAsync($"/api/streams/{stream}/events?type=", new StringContent("x"));
        using var batch = await PostBatchAsync(stream, new StringContent("""{"events":[{"type":"","data":"x"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.Equal("urn:bridge:problem:invalid-event-type", (await Api.ProblemAsync(single)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        Assert.True((await Api.ProblemAsync(batch)).GetProperty("errors").TryGetProperty("events[0].type", out _));
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Fact]
    public async Task Publish_answers_give_their_length_rather_than_being_chunked()
    {
        // A chunked answer ends with a chunk of its own, which Kestrel sends after the body: a second packet that a
        // publisher waiting for its answer must also receive before it can publish again.
        var stream = TestNames.Stream("length");
        using var created = await Api.PublishAsync(Client, stream, "one", key: "k1");
        using var duplicate = await Api.PublishAsync(Client, stream, "one", key: "k1");
        using var batch = await PostBatchAsync(stream, JsonContent.Create(new { events = new[] { new { data = "two" }, new { data = "three" } } }));

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.Created], new[] { created, duplicate, batch }.Select(answer => answer.StatusCode));
        foreach (var answer in new[] { created, duplicate, batch })
        {
            Assert.NotEqual(true, answer.Headers.TransferEncodingChunked);
            Assert.Equal((await answer.Content.ReadAsByteArrayAsync()).Length, answer.Content.Headers.ContentLength);
            Assert.Equal("application/json", answer.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task A_201_says_where_to_read_the_stream_from_the_new_event_on()
    {
        var stream = TestNames.Stream("location");
        using var first = await Api.PublishAsync(Client, stream, "one");
        using var second = await Api.PublishAsync(Client, stream, "two");
        using var batch = await PostBatchAsync(stream, JsonContent.Create(new { events = new[] { new { data = "three" }, new { data = "four" } } }));

        var epoch = (await second.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString()!.Split('.')[1];
        Assert.Equal($"/api/streams/{stream}/events?lastEventId=1.{epoch}", second.Headers.Location?.OriginalString);
        Assert.Equal($"/api/streams/{stream}/events?lastEventId=2.{epoch}", batch.Headers.Location?.OriginalString);

        // Following it gives the new event first.
        await using var from = await SseConnection.OpenAsync(Client, second.Headers.Location!.OriginalString);
        Assert.Equal("two", (await from.ReadEventAsync(Waits.Within(10)))!.Data);
    }

    [Fact]
    public async Task A_type_given_twice_is_400()
    {
        using var response = await Client.PostAsync($"/api/streams/{TestNames.Stream("twice")}/events?type=a&type=b", new StringContent("x"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_body_over_256_KiB_is_413_whether_or_not_its_length_is_announced()
    {
        var stream = TestNames.Stream("too-large");
        var tooLarge = new byte[(256 * 1024) + 1];
        Array.Fill(tooLarge, (byte)'a');

        using var announced = await Client.PostAsync($"/api/streams/{stream}/events", new ByteArrayContent(tooLarge));
        using var chunked = await Client.PostAsync($"/api/streams/{stream}/events", new StreamContent(new UnannouncedLengthStream(tooLarge)));
        using var exactly = await Client.PostAsync($"/api/streams/{stream}/events", new ByteArrayContent(tooLarge[..^1]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, announced.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunked.StatusCode);
        Assert.Equal("urn:bridge:problem:event-too-large", (await Api.ProblemAsync(chunked)).GetProperty("type").GetString());
        Assert.Equal(HttpStatusCode.Created, exactly.StatusCode);
        Assert.Equal(1, await LastIdAsync(stream));
    }

    [Fact]
    public async Task A_body_shorter_than_its_length_then_the_client_closing_its_side_stores_nothing_and_logs_no_warning()
    {
        // Kestrel does not keep half-closed connections: a client's FIN ends the connection, so no answer can reach
        // it (docs/api.md says so). What must hold is that nothing is stored, nothing alarming is logged, and the
        // server goes on serving.
        var logs = new CapturingLoggerProvider();
        await using var server = await ApiTestServer.StartAsync(logs: logs);
        var stream = TestNames.Stream("short-body");
        using (var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp))
        {
            await socket.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
            await socket.SendAsync(Encoding.ASCII.GetBytes(
                $"POST /api/streams/{stream}/events HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\nonly this"));
            socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            var buffer = new byte[4096];
            try
            {
                while (await socket.ReceiveAsync(buffer, Waits.Within(10)) > 0)
                {
                }
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Reset, as Kestrel does for any client that closes its side.
            }
        }

        using var next = await Api.PublishAsync(server.Client, stream, "whole");
        Assert.Equal(HttpStatusCode.Created, next.StatusCode);
        Assert.Equal(1, (await server.Services.GetRequiredService<IEventLog>().GetHeadAsync(StreamName.Parse(stream))).LastId);
        Assert.DoesNotContain(logs.Messages, message => message.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal) &&
            (message.Contains(" Warning: ", StringComparison.Ordinal) || message.Contains(" Error: ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Data_that_is_not_utf8_is_400()
    {
        var stream = TestNames.Stream("binary");
        using var response = await Client.PostAsync($"/api/streams/{stream}/events", new ByteArrayContent([0x66, 0xff, 0xfe, 0x00]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("urn:bridge:problem:data-not-utf8", (await Api.ProblemAsync(response)).GetProperty("type").GetString());
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Fact]
    public async Task A_bad_idempotency_key_is_400()
    {
        var stream = TestNames.Stream("bad-key");
        using var tooLong = await Api.PublishAsync(Client, stream, "x", key: new string('k', 201));

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("urn:bridge:problem:invalid-idempotency-key", (await Api.ProblemAsync(tooLong)).GetProperty("type").GetString());
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Fact]
    public async Task A_key_in_the_drafts_quoted_form_is_the_same_key_unquoted()
    {
        var stream = TestNames.Stream("quoted-key");

        var quoted = await Api.PublishIdAsync(Client, stream, "x", key: "\"8e03978e\"");
        using var plain = await Api.PublishAsync(Client, stream, "x", key: "8e03978e");

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(quoted, (await plain.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64());
    }

    [Theory]
    [InlineData("not json", "invalid-batch", HttpStatusCode.BadRequest)]
    [InlineData("[]", "invalid-batch", HttpStatusCode.BadRequest)]
    [InlineData("""{"events":[]}""", "invalid-batch", HttpStatusCode.BadRequest)]
    [InlineData("""{"events":[{},{},{},{},{},{}]}""", "batch-too-large", HttpStatusCode.RequestEntityTooLarge)]
    [InlineData("""{"events":[{"data":"\ud800"}]}""", "invalid-batch", HttpStatusCode.BadRequest)]
    public async Task A_bad_batch_is_refused_and_stores_nothing(string body, string code, HttpStatusCode status)
    {
        var stream = TestNames.Stream("bad-batch");
        using var response = await PostBatchAsync(stream, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal($"urn:bridge:problem:{code}", (await Api.ProblemAsync(response)).GetProperty("type").GetString());
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Theory]
    [InlineData("""{"events":[1]}""", "events[0]")]
    [InlineData("""{"events":[{"data":5}]}""", "events[0].data")]
    [InlineData("""{"events":[{"data":"x"},{"type":["a"],"data":"y"}]}""", "events[1].type")]
    [InlineData("""{"events":[{"data":"x","idempotencyKey":{}}]}""", "events[0].idempotencyKey")]
    [InlineData("""{"events":{"data":"x"}}""", "events")]
    [InlineData("""{"events":[{"type":"a"}]}""", "events[0].data")]
    public async Task A_batch_of_the_wrong_shape_names_the_field_in_plain_words(string body, string field)
    {
        var stream = TestNames.Stream("shape");
        using var response = await PostBatchAsync(stream, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Api.ProblemAsync(response);
        Assert.Equal("urn:bridge:problem:invalid-batch", problem.GetProperty("type").GetString());
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
        Assert.DoesNotContain("Bridge.", problem.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", problem.ToString(), StringComparison.Ordinal);
        Assert.NotEmpty(messages[0].GetString()!);
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Fact]
    public async Task A_batch_with_one_bad_event_names_it_and_stores_none()
    {
        var stream = TestNames.Stream("bad-item");
        using var response = await PostBatchAsync(stream, JsonContent.Create(new { events = new object[] { new { data = "fine" }, new { type = "bridge.x", data = "reserved" } } }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await Api.ProblemAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("events[1].type", out _));
        Assert.Equal(0, await LastIdAsync(stream));
    }

    [Fact]
    public async Task A_batch_body_over_its_limit_is_413()
    {
        var big = new string('x', 3000);
        using var response = await PostBatchAsync(TestNames.Stream("big-batch"), JsonContent.Create(new { events = new[] { new { data = big } } }));
        using var tooMany = await PostBatchAsync(TestNames.Stream("many-batch"), JsonContent.Create(new { events = Enumerable.Range(0, 6).Select(i => new { data = "x" }) }));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("Publish:MaxBatchBytes", (await Api.ProblemAsync(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Contains("Publish:MaxBatchEvents", (await Api.ProblemAsync(tooMany)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PostBatchAsync(string stream, HttpContent body, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/streams/{stream}/events/batch") { Content = body };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        }

        return await Client.SendAsync(request);
    }

    private async Task<long> LastIdAsync(string stream) =>
        (await _server.Services.GetRequiredService<IEventLog>().GetHeadAsync(StreamName.Parse(stream))).LastId;

    /// <summary>A stream whose length HttpClient cannot know, so the body is sent chunked.</summary>
    private sealed class UnannouncedLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
