using System.Text;
using Bridge.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Bridge.Server.Tests.BadInput;

/// <summary>
/// One hostile request and what the server must answer. <see cref="Stream"/> is the stream it names, when that is a
/// valid name: a refused request must leave it empty, and an accepted publish must store exactly <see cref="Stored"/>.
/// </summary>
internal sealed record HostileInput(string Category, string Name, byte[] Request, int[] Expected)
{
    public string? Stream { get; init; }

    /// <summary>For an accepted publish: the data each stored event must read back as, in order.</summary>
    public string[]? Stored { get; init; }

    /// <summary>For an event stream: text the body must reach (then the connection is dropped).</summary>
    public string? BodyMustContain { get; init; }

    public override string ToString() => $"{Category}: {Name}";
}

/// <summary>
/// The corpus: stream names, cursors, types, headers, bodies (invalid UTF-8, NUL, CR/LF injection, broken framing),
/// malformed HTTP, and tokens. Every request is built byte by byte so nothing is cleaned up on the way.
/// </summary>
internal sealed class HostileInputs(string run, string token)
{
    private const int BadRequest = 400, Unauthorized = 401, Forbidden = 403, NotFound = 404, MethodNotAllowed = 405;
    private const int TooLarge = 413, UriTooLong = 414, HeadersTooLarge = 431;
    private int _streams;

    /// <summary>A fresh valid stream name for one case.</summary>
    private string NewStream() => $"corpus-{run}-{++_streams}";

    public IEnumerable<HostileInput> All() =>
        [.. StreamNames(), .. Cursors(), .. Types(), .. IdempotencyKeys(), .. Headers(), .. Bodies(), .. BatchBodies(), .. Framing(), .. Tokens()];

    private IEnumerable<HostileInput> StreamNames()
    {
        // Path segments as sent on the wire (percent-encoded where a client would have to).
        string[] invalid =
        [
            "%20", "a%20b", "a%2Fb", "a%00b", "a%0D%0Ab", "a%0Ab", "a%09b", "%C3%A9t%C3%A9", "%F0%9F%98%80", "%FF%FE", "%C0%80",
            "a%23b", "a%3Fb", "a%5Cb", "%27%3B%20DROP%20TABLE%20events%3B--", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%25",
            "%zz", "a%", "%E2%80%AE", "a*", "*", "a,b", "a+b", "a@b", "~", "%24%7Bjndi:ldap:%2F%2Fx%7D", "a'b", "a%22b",
            "PartitionKey%20eq%20'x'", new string('c', 129),
        ];
        foreach (var segment in invalid)
        {
            yield return new HostileInput("stream name", $"GET {Shorten(segment)}", Get($"/api/streams/{segment}/events"), [BadRequest]);
            yield return new HostileInput("stream name", $"POST {Shorten(segment)}", Post($"/api/streams/{segment}/events", "x"), [BadRequest]);
        }

        // Dot segments are resolved before routing, so these name no route at all; except '..', which resolves to
        // the multi-stream subscription, GET /api/events, and names no stream there.
        foreach (var segment in new[] { "", ".", "%2e" })
        {
            yield return new HostileInput("stream name", $"GET '{segment}'", Get($"/api/streams/{segment}/events"), [NotFound]);
        }

        foreach (var segment in new[] { "..", "%2E%2E" })
        {
            yield return new HostileInput("stream name", $"GET '{segment}'", Get($"/api/streams/{segment}/events"), [BadRequest]);
        }

        yield return new HostileInput("stream name", "9,000 characters (request line too long)", Get($"/api/streams/{new string('d', 9000)}/events"), [UriTooLong]);

        foreach (var valid in new[] { "A.b:c_d-e", "%41%42", "CON", "head", "..x", new string('e', 90) })
        {
            var stream = NewStream() + "-" + Uri.UnescapeDataString(valid);
            var segment = stream[..^Uri.UnescapeDataString(valid).Length] + valid;
            yield return new HostileInput("stream name (valid, documented 201)", $"POST {Shorten(valid)}", Post($"/api/streams/{segment}/events", "fine"), [201]) { Stream = stream, Stored = ["fine"] };
        }
    }

    private IEnumerable<HostileInput> Cursors()
    {
        // A cursor that is not a valid id is answered with 200 and a bridge.gap event naming it: a browser would stop
        // for good on any other status. (README, "Subscribing".)
        string[] malformed = ["-1", "abc", "1e3", "0x10", "99999999999999999999", "1.5.5", "1.X", "1.", ".abc", "+1", "\u0661", "1 2", "'; DROP", new string('9', 1000)];
        foreach (var cursor in malformed)
        {
            yield return Subscribe("cursor header", Shorten(cursor), cursor, inQuery: false, "malformed-cursor");
        }

        string[] malformedQuery = ["%00", "%0D%0Aevent:%20evil%0D%0Adata:%20x%0D%0A", "%FF", "%", "-0", "%E2%80%AE1"];
        foreach (var cursor in malformedQuery)
        {
            yield return Subscribe("cursor query", Shorten(cursor), cursor, inQuery: true, "malformed-cursor");
        }

        foreach (var ahead in new[] { "9223372036854775807", "5" })
        {
            yield return Subscribe("cursor header", $"{ahead} (beyond the stream's end)", ahead, inQuery: false, "cursor-ahead-of-stream");
        }

        // A well-formed id of an epoch the stream never had (forged, or from a history storage lost) is not this
        // stream's history: the client is told to drop what it holds and gets the stream from its start.
        foreach (var foreign in new[] { "3.forged", "1.5" })
        {
            yield return Subscribe("cursor header", $"{foreign} (an epoch the stream never had)", foreign, inQuery: false, "history-replaced");
        }

        yield return new HostileInput("cursor query", "10,000 characters (request line too long)", Get($"/api/streams/{NewStream()}/events?lastEventId={new string('1', 10_000)}"), [UriTooLong]);
    }

    private HostileInput Subscribe(string category, string name, string cursor, bool inQuery, string gapReason)
    {
        var stream = NewStream();
        var request = inQuery
            ? Get($"/api/streams/{stream}/events?lastEventId={cursor}")
            : Get($"/api/streams/{stream}/events", ("Last-Event-ID", cursor));
        return new HostileInput(category, name, request, [200]) { Stream = stream, BodyMustContain = $"\"reason\":\"{gapReason}\"" };
    }

    private IEnumerable<HostileInput> Types()
    {
        string[] invalid =
        [
            "a%20b", "a%0Ab", "a%0D%0Aevent:%20evil", "%00", "%C3%A9", new string('t', 101), "bridge.gap", "BRIDGE.anything",
            "a%2Fb", "%3Cb%3E", "a;b", "%FF",
        ];
        foreach (var type in invalid)
        {
            var stream = NewStream();
            yield return new HostileInput("type", Shorten(type), Post($"/api/streams/{stream}/events?type={type}", "x"), [BadRequest]) { Stream = stream };
        }

        var twice = NewStream();
        yield return new HostileInput("type", "given twice", Post($"/api/streams/{twice}/events?type=a&type=b", "x"), [BadRequest]) { Stream = twice };

        // An empty type is refused: leaving the parameter out is how to ask for "message" (docs/api.md).
        var empty = NewStream();
        yield return new HostileInput("type", "empty", Post($"/api/streams/{empty}/events?type=", "x"), [BadRequest]) { Stream = empty };

        foreach (var (type, name) in new[] { ("a:b.c-d_e", "every allowed character"), (new string('t', 100), "100 characters") })
        {
            var stream = NewStream();
            yield return new HostileInput("type (valid)", name, Post($"/api/streams/{stream}/events?type={type}", "typed"), [201]) { Stream = stream, Stored = ["typed"] };
        }

        foreach (var type in new[] { "a b", "bridge.gap", "", new string('t', 101) })
        {
            var stream = NewStream();
            yield return new HostileInput("type in a batch", $"'{Shorten(type)}'", Post($"/api/streams/{stream}/events/batch", $$"""{"events":[{"type":"{{type}}","data":"d"}]}"""), [BadRequest])
            {
                Stream = stream,
            };
        }
    }

    private IEnumerable<HostileInput> IdempotencyKeys()
    {
        var cases = new (string Name, byte[] Value, int Expected)[]
        {
            ("empty", [], BadRequest),
            ("201 characters", Encoding.ASCII.GetBytes(new string('k', 201)), BadRequest),
            ("control character", [(byte)'a', 0x01, (byte)'b'], BadRequest),
            ("DEL character", [(byte)'a', 0x7F], BadRequest),
            ("non-ASCII bytes (documented: a key is opaque)", [0xC3, 0xA9], 201),
            ("a lone quote", "\""u8.ToArray(), 201),
            ("quoted (structured field)", "\"abc\""u8.ToArray(), 201),
            ("200 characters", Encoding.ASCII.GetBytes(new string('k', 200)), 201),
        };
        foreach (var (name, value, expected) in cases)
        {
            var stream = NewStream();
            yield return new HostileInput("Idempotency-Key", name, Post($"/api/streams/{stream}/events", "keyed"u8.ToArray(), ("Idempotency-Key", value)), [expected])
            {
                Stream = stream,
                Stored = expected == 201 ? ["keyed"] : null,
            };
        }

        var twice = NewStream();
        yield return new HostileInput("Idempotency-Key", "sent twice", Post($"/api/streams/{twice}/events", "x"u8.ToArray(), ("Idempotency-Key", "a"u8.ToArray()), ("Idempotency-Key", "b"u8.ToArray())), [BadRequest]) { Stream = twice };
    }

    private IEnumerable<HostileInput> Headers()
    {
        var stream = NewStream();
        yield return new HostileInput("headers", "one 40 KiB header", Get("/api/health", ("X-Big", new string('h', 40 * 1024))), [HeadersTooLarge]);
        yield return new HostileInput("headers", "300 headers", Get("/api/health", [.. Enumerable.Range(0, 300).Select(i => ($"X-H{i}", "v"))]), [HeadersTooLarge]);
        yield return new HostileInput("headers", "a 33 KiB cookie", Get($"/api/streams/{stream}/events", ("Cookie", "bridge_token=" + new string('c', 33 * 1024))), [HeadersTooLarge]) { Stream = stream };
        yield return new HostileInput("headers", "NUL in a value", Raw($"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "bare CR in a value", Raw($"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "a line without a colon", Raw($"GET /api/health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "space before the colon", Raw($"GET /api/health HTTP/1.1\r\nHost : x\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "obsolete line folding", Raw($"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "no Host", Raw("GET /api/health HTTP/1.1\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "two Hosts", Raw("GET /api/health HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "absolute target naming another host", Raw("GET http://evil.example/api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"), [BadRequest]);
        yield return new HostileInput("headers", "non-ASCII header name", Raw("GET /api/health HTTP/1.1\r\nHost: x\r\nX-\u00e9: a\r\nConnection: close\r\n\r\n", Encoding.UTF8), [BadRequest]);

        // Headers Bridge reads but where odd values are harmless, documented as ignored.
        foreach (var (name, value) in new[] { ("Accept", "application/json"), ("Accept-Encoding", "gzip, br, zstd"), ("X-Forwarded-For", "not-an-address, ::1, " + new string('9', 2000)), ("Cache-Control", "max-age=999999"), ("Cookie", "bridge_token=garbage") })
        {
            var subscribed = NewStream();
            yield return new HostileInput("headers (ignored, documented 200)", $"{name}: {Shorten(value)}", Get($"/api/streams/{subscribed}/events", (name, value)), [200]) { Stream = subscribed, BodyMustContain = "retry:" };
        }

        foreach (var contentType in new[] { "application/json", "text/plain; charset=iso-8859-1", "multipart/form-data; boundary=x", "\u0001" })
        {
            var published = NewStream();
            yield return new HostileInput("Content-Type (documented: bodies are UTF-8 whatever it says)", Shorten(contentType), Post($"/api/streams/{published}/events", "typed body", ("Content-Type", contentType)), [201])
            {
                Stream = published,
                Stored = ["typed body"],
            };
        }

        // RFC 9112 2.2 lets a server accept a bare LF as a line end; Kestrel does.
        yield return new HostileInput("headers (documented 200)", "bare LF line endings", Raw("GET /api/health HTTP/1.1\nHost: x\nConnection: close\n\n"), [200]);
    }

    private IEnumerable<HostileInput> Bodies()
    {
        var invalidUtf8 = new (string Name, byte[] Bytes)[]
        {
            ("0xFF", [0xFF]), ("overlong NUL (C0 80)", [0xC0, 0x80]), ("overlong slash (E0 80 AF)", [0xE0, 0x80, 0xAF]),
            ("UTF-16 surrogate (ED A0 80)", [0xED, 0xA0, 0x80]), ("truncated sequence", [0x61, 0xE2, 0x82]), ("lone continuation byte", [0x80]),
            ("5-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]), ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]), ("valid then 0xFE", [0x6F, 0x6B, 0xFE]),
            ("Latin-1 text", Encoding.Latin1.GetBytes("caf\u00e9")), ("UTF-16 text with its BOM", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("hi")]),
        };
        foreach (var (name, bytes) in invalidUtf8)
        {
            var stream = NewStream();
            yield return new HostileInput("body: invalid UTF-8", name, Post($"/api/streams/{stream}/events", bytes), [BadRequest]) { Stream = stream };
        }

        // Valid text that tries to break the SSE framing: it must come back as one event, line breaks normalized to LF.
        var framing = new (string Name, string Sent, string ReadBack)[]
        {
            ("CRLF injection of a new event", "a\r\nid: 999\r\n\r\nevent: evil\r\ndata: x", "a\nid: 999\n\nevent: evil\ndata: x"),
            ("LF LF ends an event", "one\n\ntwo", "one\n\ntwo"),
            ("bare CR", "a\rb", "a\nb"),
            ("retry field", "\nretry: 1\n", "\nretry: 1\n"),
            ("comment line", ": not a comment", ": not a comment"),
            ("NUL bytes", "a\0b\0", "a\0b\0"),
            ("leading BOM", "\uFEFFbom", "\uFEFFbom"),
            ("U+2028 line separator", "a\u2028b", "a\u2028b"),
            ("only a line break", "\r\n", "\n"),
            ("empty (documented: an event with empty data)", "", ""),
            ("JSON that looks like a problem", "{\"type\":\"urn:bridge:problem:x\"}", "{\"type\":\"urn:bridge:problem:x\"}"),
        };
        foreach (var (name, sent, readBack) in framing)
        {
            var stream = NewStream();
            yield return new HostileInput("body: SSE framing", name, Post($"/api/streams/{stream}/events", sent), [201]) { Stream = stream, Stored = [readBack] };
        }

        var atLimit = NewStream();
        yield return new HostileInput("body: size", "exactly 256 KiB", Post($"/api/streams/{atLimit}/events", new string('z', 256 * 1024)), [201]) { Stream = atLimit, Stored = [new string('z', 256 * 1024)] };
        var overLimit = NewStream();
        yield return new HostileInput("body: size", "256 KiB + 1", Post($"/api/streams/{overLimit}/events", new string('z', (256 * 1024) + 1)), [TooLarge]) { Stream = overLimit };
        var lying = NewStream();
        yield return new HostileInput("body: size", "Content-Length of 300,000 announced, 10 sent", Raw($"POST /api/streams/{lying}/events HTTP/1.1\r\nHost: x\r\n{Auth}Content-Length: 300000\r\nConnection: close\r\n\r\n0123456789"), [TooLarge]) { Stream = lying };
        var chunkedOver = NewStream();
        yield return new HostileInput("body: size", "chunked past 256 KiB", Raw($"POST /api/streams/{chunkedOver}/events HTTP/1.1\r\nHost: x\r\n{Auth}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n40001\r\n{new string('z', 0x40001)}\r\n0\r\n\r\n"), [TooLarge]) { Stream = chunkedOver };
        var expect = NewStream();
        yield return new HostileInput("body: size", "Expect: 100-continue for 1 GB", Raw($"POST /api/streams/{expect}/events HTTP/1.1\r\nHost: x\r\n{Auth}Content-Length: 1000000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"), [TooLarge]) { Stream = expect };
    }

    private IEnumerable<HostileInput> BatchBodies()
    {
        var cases = new (string Name, string Body, int Expected)[]
        {
            ("not JSON", "hello", BadRequest),
            ("truncated JSON", "{\"events\":[{\"data\":\"x\"}", BadRequest),
            ("an array", "[]", BadRequest),
            ("an empty object", "{}", BadRequest),
            ("empty events", "{\"events\":[]}", BadRequest),
            ("null events", "{\"events\":null}", BadRequest),
            ("a null event", "{\"events\":[null]}", BadRequest),
            ("a number for data", "{\"events\":[{\"data\":1}]}", BadRequest),
            ("an object for type", "{\"events\":[{\"type\":{},\"data\":\"x\"}]}", BadRequest),
            ("deep nesting", "{\"events\":[{\"data\":" + new string('[', 5000) + new string(']', 5000) + "}]}", BadRequest),
            ("lone surrogate escape", "{\"events\":[{\"data\":\"\\uD800\"}]}", BadRequest),
            ("one bad event among good ones", "{\"events\":[{\"data\":\"ok\"},{\"type\":\"a b\",\"data\":\"x\"},{\"data\":\"ok\"}]}", BadRequest),
            ("a 201-character key", "{\"events\":[{\"data\":\"x\",\"idempotencyKey\":\"" + new string('k', 201) + "\"}]}", BadRequest),
            ("1,001 events", "{\"events\":[" + string.Join(',', Enumerable.Repeat("{\"data\":\"x\"}", 1001)) + "]}", TooLarge),
            ("an event of 256 KiB + 1", "{\"events\":[{\"data\":\"" + new string('z', (256 * 1024) + 1) + "\"}]}", BadRequest),
            ("a comment", "{\"events\":[/* hi */{\"data\":\"x\"}]}", BadRequest),
            ("a trailing comma", "{\"events\":[{\"data\":\"x\"},]}", BadRequest),
            ("NaN", "{\"events\":[{\"data\":NaN}]}", BadRequest),
            ("missing data (documented: refused)", "{\"events\":[{\"type\":\"t\"}]}", BadRequest),
            ("data that is a number", "{\"events\":[{\"data\":5}]}", BadRequest),
        };
        foreach (var (name, body, expected) in cases)
        {
            var stream = NewStream();
            yield return new HostileInput("batch body", name, Post($"/api/streams/{stream}/events/batch", body), [expected]) { Stream = stream };
        }

        var invalidUtf8 = NewStream();
        yield return new HostileInput("batch body", "invalid UTF-8 in a string", Post($"/api/streams/{invalidUtf8}/events/batch", [.. "{\"events\":[{\"data\":\""u8, 0xFF, .. "\"}]}"u8]), [BadRequest]) { Stream = invalidUtf8 };

        var accepted = new (string Name, string Body, string[] Stored)[]
        {
            ("escaped NUL and CRLF", "{\"events\":[{\"data\":\"a\\u0000\\r\\nb\"}]}", ["a\0\nb"]),
            ("unknown properties (ignored)", "{\"events\":[{\"data\":\"x\",\"extra\":[1,2]}],\"more\":true}", ["x"]),
            ("a null type (documented: message)", "{\"events\":[{\"type\":null,\"data\":\"n\"}]}", ["n"]),
            ("empty data", "{\"events\":[{\"data\":\"\"}]}", [""]),
            ("a UTF-8 BOM before the JSON", "\uFEFF{\"events\":[{\"data\":\"bom\"}]}", ["bom"]),
        };
        foreach (var (name, body, stored) in accepted)
        {
            var stream = NewStream();
            yield return new HostileInput("batch body (valid, documented 201)", name, Post($"/api/streams/{stream}/events/batch", body), [201]) { Stream = stream, Stored = stored };
        }
    }

    private IEnumerable<HostileInput> Framing()
    {
        var requests = new (string Name, string Request, int Expected)[]
        {
            ("request line garbage", "GARBAGE\r\n\r\n", BadRequest),
            ("HTTP/0.9 style", "GET /api/health\r\n\r\n", BadRequest),
            ("two spaces in the request line", "GET  /api/health HTTP/1.1\r\nHost: x\r\n\r\n", BadRequest),
            ("a 300-character method (no such route)", new string('M', 300) + " / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NotFound),
            ("a fragment in the target (no such route)", "GET /api/health#x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", NotFound),
            ("asterisk target for GET", "GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", MethodNotAllowed),
        };
        foreach (var (name, request, expected) in requests)
        {
            yield return new HostileInput("HTTP framing", name, Raw(request), [expected]);
        }

        // Publishes whose framing is broken. Kestrel reads chunked framing when both it and Content-Length are sent
        // (RFC 9112 6.3) and closes the connection afterwards, so no second request can be smuggled behind it.
        var publishes = new (string Name, string HeadersAndBody, int Expected, string[]? Stored)[]
        {
            ("negative Content-Length", "Content-Length: -1\r\n\r\n", BadRequest, null),
            ("non-numeric Content-Length", "Content-Length: abc\r\n\r\n", BadRequest, null),
            ("two different Content-Lengths", "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxx", BadRequest, null),
            ("bad chunk size", "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", BadRequest, null),
            ("a chunk longer than it says", "Transfer-Encoding: chunked\r\n\r\n2\r\nabcdef\r\n0\r\n\r\n", BadRequest, null),
            ("unknown transfer coding", "Transfer-Encoding: gzip\r\n\r\nabc", BadRequest, null),
            ("body ends early, then silence (documented: 408 from the body data rate)", "Content-Length: 10\r\n\r\nabc", 408, null),
            ("Content-Length and chunked (documented: chunked wins)", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n", 201, ["ok"]),
        };
        foreach (var (name, headersAndBody, expected, stored) in publishes)
        {
            var stream = NewStream();
            var request = $"POST /api/streams/{stream}/events HTTP/1.1\r\nHost: x\r\n{Auth}Connection: close\r\n{headersAndBody}";
            yield return new HostileInput("HTTP framing", name, Raw(request), [expected]) { Stream = stream, Stored = stored };
        }

        foreach (var method in new[] { "PUT", "PATCH", "DELETE", "HEAD", "TRACE", "BREW" })
        {
            var stream = NewStream();
            yield return new HostileInput("HTTP method", method, Raw($"{method} /api/streams/{stream}/events HTTP/1.1\r\nHost: x\r\n{Auth}Content-Length: 0\r\nConnection: close\r\n\r\n"), [MethodNotAllowed]) { Stream = stream };
        }

        // Routing compares methods without regard to case, so "get" is served like GET.
        var lowercase = NewStream();
        yield return new HostileInput("HTTP method", "get (documented: served as GET)", Raw($"get /api/streams/{lowercase}/events HTTP/1.1\r\nHost: x\r\n{Auth}Connection: close\r\n\r\n"), [200]) { Stream = lowercase, BodyMustContain = "retry:" };
        var options = NewStream();
        yield return new HostileInput("HTTP method", "OPTIONS without Origin (not a preflight)", Raw($"OPTIONS /api/streams/{options}/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), [MethodNotAllowed]) { Stream = options };
        yield return new HostileInput("route", "unknown route", Get("/api/nothing-here"), [NotFound]);
        var extra = NewStream();
        yield return new HostileInput("route", "trailing path after events", Get($"/api/streams/{extra}/events/extra"), [NotFound]) { Stream = extra };
    }

    private IEnumerable<HostileInput> Tokens()
    {
        const string guarded = "guarded";
        var otherKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var header = Convert.ToBase64String("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8).TrimEnd('=');
        var cases = new (string Name, string Token)[]
        {
            ("alg none", TestTokens.WithoutSignature([guarded])),
            ("wrong key", TestTokens.Create(subscribe: [guarded], key: otherKey)),
            ("wrong audience", TestTokens.Create(subscribe: [guarded], audience: "someone-else")),
            ("wrong issuer", TestTokens.Create(subscribe: [guarded], issuer: "https://evil.example")),
            ("expired", TestTokens.Create(subscribe: [guarded], lifetime: TimeSpan.FromSeconds(-30))),
            ("not yet valid", TestTokens.Create(subscribe: [guarded], notBefore: DateTimeOffset.UtcNow.AddMinutes(5))),
            ("no expiry", TestTokens.Create(subscribe: [guarded], expires: false)),
            ("not a JWT", "hello"),
            ("three garbage parts", "a.b.c"),
            ("five parts (JWE shape)", "a.b.c.d.e"),
            ("empty parts", ".."),
            ("signature stripped", string.Join('.', TestTokens.Create(subscribe: [guarded]).Split('.')[..2]) + "."),
            ("payload swapped under a valid signature", Swap(TestTokens.Create(subscribe: ["other"]), TestTokens.Create(subscribe: [guarded]))),
            ("kid path traversal", TestTokens.Create(subscribe: [guarded], credentials: new(new SymmetricSecurityKey(Convert.FromBase64String(otherKey)) { KeyId = "../../../etc/passwd" }, SecurityAlgorithms.HmacSha256))),
            ("jku pointing elsewhere", TestTokens.Create(subscribe: [guarded], key: otherKey, header: new Dictionary<string, object> { ["jku"] = "http://127.0.0.1:1/jwks" })),
            ("a claim that is not a stream pattern", TestTokens.Create(subscribe: ["not a stream!"])),
            ("an 8 KiB token", header + "." + new string('A', 8 * 1024) + ".sig"),
        };
        foreach (var (name, bad) in cases)
        {
            yield return new HostileInput("token", name, Get($"/api/streams/{guarded}/events", token: bad), [Unauthorized]);
        }

        yield return new HostileInput("token", "Authorization: Bearer (no token)", Get($"/api/streams/{guarded}/events", token: null, ("Authorization", "Bearer")), [Unauthorized]);
        yield return new HostileInput("token", "Authorization: Basic", Get($"/api/streams/{guarded}/events", token: null, ("Authorization", "Basic dXNlcjpwYXNz")), [Unauthorized]);
        yield return new HostileInput("token", "two Authorization headers", Get($"/api/streams/{guarded}/events", token: null, ("Authorization", $"Bearer {token}"), ("Authorization", $"Bearer {token}")), [Unauthorized]);
        yield return new HostileInput("token", "valid token, other stream", Get($"/api/streams/{guarded}/events", token: TestTokens.Create(subscribe: ["elsewhere"])), [Forbidden]);
        yield return new HostileInput("token", "subscribe-only token publishing", Post($"/api/streams/{guarded}/events", "x", token: TestTokens.Create(subscribe: [guarded])), [Forbidden]);
        yield return new HostileInput("token", "publish with the token in the query", Post($"/api/streams/{guarded}/events?access_token={token}", "x", token: null), [Unauthorized]);
        yield return new HostileInput("token", "publish with the token in the cookie", Post($"/api/streams/{guarded}/events", "x", token: null, ("Cookie", $"bridge_token={token}")), [Unauthorized]);
        yield return new HostileInput("token", "session from an expired token", Post("/api/auth/session", "", token: TestTokens.Create(subscribe: [guarded], lifetime: TimeSpan.FromSeconds(-30))), [Unauthorized]);
    }

    /// <summary>A token whose payload is <paramref name="payloadFrom"/>'s, under <paramref name="signatureFrom"/>'s header and signature.</summary>
    private static string Swap(string signatureFrom, string payloadFrom)
    {
        var signed = signatureFrom.Split('.');
        return $"{signed[0]}.{payloadFrom.Split('.')[1]}.{signed[2]}";
    }

    private string Auth => $"Authorization: Bearer {token}\r\n";

    private byte[] Get(string target, params (string Name, string Value)[] headers) => Get(target, token, headers);

    private static byte[] Get(string target, string? token, params (string Name, string Value)[] headers) =>
        Build("GET", target, token, [.. headers.Select(h => (h.Name, Encoding.UTF8.GetBytes(h.Value)))], body: null);

    private byte[] Post(string target, string body, params (string Name, string Value)[] headers) => Post(target, body, token, headers);

    private static byte[] Post(string target, string body, string? token, params (string Name, string Value)[] headers) =>
        Build("POST", target, token, [.. headers.Select(h => (h.Name, Encoding.UTF8.GetBytes(h.Value)))], Encoding.UTF8.GetBytes(body));

    private byte[] Post(string target, byte[] body, params (string Name, byte[] Value)[] headers) => Build("POST", target, token, headers, body);

    private static byte[] Build(string method, string target, string? token, (string Name, byte[] Value)[] headers, byte[]? body)
    {
        var request = new List<byte>();
        request.AddRange(Encoding.ASCII.GetBytes($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"));
        if (token is not null)
        {
            request.AddRange(Encoding.ASCII.GetBytes($"Authorization: Bearer {token}\r\n"));
        }

        foreach (var (name, value) in headers)
        {
            request.AddRange(Encoding.ASCII.GetBytes(name + ": "));
            request.AddRange(value);
            request.AddRange("\r\n"u8);
        }

        if (body is not null)
        {
            request.AddRange(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n"));
        }

        request.AddRange("\r\n"u8);
        request.AddRange(body ?? []);
        return [.. request];
    }

    private static byte[] Raw(string request, Encoding? encoding = null) => (encoding ?? Encoding.Latin1).GetBytes(request);

    private static string Shorten(string text) => text.Length > 40 ? $"{text[..20]}… ({text.Length} characters)" : text;
}
