using System.IO.Pipelines;
using System.Net.ServerSentEvents;
using Bridge.Events;
using Bridge.Hub;
using Bridge.Publishing;
using Bridge.Subscribers;
using Bridge.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bridge.Core.Tests;

/// <summary>
/// The engine wired as a host wires it, on the in-memory log and a fake clock: publish through it, subscribe to it
/// through a pipe, and move time forward by hand.
/// </summary>
internal sealed class Engine : IAsyncDisposable
{
    private Engine(IEventLog log, SseOptions sse, TailOptions tail)
    {
        Log = log;
        Sse = sse;
        Hub = new StreamHub(log, Options.Create(tail), Options.Create(sse), Time, NullLoggerFactory.Instance, Metrics);
        Subscriptions = new SubscriptionService(Hub, log, Options.Create(sse), Time, NullLogger<SubscriptionSession>.Instance, Metrics);
        Publisher = new EventPublisher(log, Hub, Time, Metrics);
    }

    public BridgeMetrics Metrics { get; } = new();

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-11-30T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    public IEventLog Log { get; }

    public SseOptions Sse { get; }

    public StreamHub Hub { get; }

    public SubscriptionService Subscriptions { get; }

    public EventPublisher Publisher { get; }

    public static async Task<Engine> StartAsync(SseOptions? sse = null, TailOptions? tail = null, IEventLog? log = null)
    {
        var engine = new Engine(log ?? new InMemoryEventLog(TimeProvider.System), sse ?? new SseOptions(), tail ?? new TailOptions());
        await engine.Hub.StartAsync(CancellationToken.None);
        return engine;
    }

    public Task PublishAsync(StreamName stream, params string[] data) =>
        Publisher.PublishAsync(stream, [.. data.Select(text => Event(text))], CancellationToken.None);

    public static NewEvent Event(string text, string? key = null, string? type = null) =>
        new(EventType.Parse(type), System.Text.Encoding.UTF8.GetBytes(text), key is null ? null : IdempotencyKey.Parse(key));

    /// <summary>Opens a response on <paramref name="stream"/>, as the HTTP layer would, writing into a pipe.</summary>
    public Response Subscribe(StreamName stream, string? lastEventId = null, DateTimeOffset? notAfter = null, PipeOptions? pipe = null) =>
        Open(pipe, (output, cutOff, aborted) => Subscriptions.ServeAsync(stream, StreamCursor.From(lastEventId, null), output, notAfter, lease: null, cutOff, aborted));

    /// <summary>Opens a response on several streams, as the HTTP layer would, writing into a pipe.</summary>
    public Response SubscribeSeveral(StreamName[] streams, string? lastEventId = null, PipeOptions? pipe = null) =>
        Open(pipe, (output, cutOff, aborted) => Subscriptions.ServeAsync(SubscriptionCursor.From(streams, lastEventId, null), output, notAfter: null, lease: null, cutOff, aborted));

    private static Response Open(PipeOptions? pipe, Func<PipeWriter, Action, CancellationToken, Task> serve)
    {
        var output = new Pipe(pipe ?? PipeOptions.Default);
        var aborted = new CancellationTokenSource();
        var cutOff = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var serving = serve(output.Writer, () => cutOff.TrySetResult(), aborted.Token);
        return new Response(output, serving.ContinueWith(_ => output.Writer.Complete(), TaskScheduler.Default), cutOff.Task, aborted);
    }

    /// <summary>Moves the clock forward a second at a time, letting the hub's clock and the tails' loops run between.</summary>
    public async Task AdvanceAsync(TimeSpan by)
    {
        for (var moved = TimeSpan.Zero; moved < by; moved += TimeSpan.FromSeconds(1))
        {
            Time.Advance(by - moved < TimeSpan.FromSeconds(1) ? by - moved : TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }
    }

    /// <summary>Waits, in real time and for at most 10 s, until <paramref name="condition"/> holds.</summary>
    public static async Task EventuallyAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            Assert.True(waited < 10_000, "The condition did not hold within 10 s.");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Subscriptions.StopAsync(CancellationToken.None);
        await Hub.DisposeAsync();
        Subscriptions.Dispose();
    }

    /// <summary>One response: its bytes, parsed as a browser would, as they arrive.</summary>
    internal sealed class Response(Pipe output, Task ended, Task cutOff, CancellationTokenSource aborted) : IAsyncDisposable
    {
        private readonly SseParser<string> _parser = SseParser.Create(output.Reader.AsStream());
        private IAsyncEnumerator<SseItem<string>>? _items;
        private string _stream = "(none named yet)";

        /// <summary>Completes when the server has ended the response.</summary>
        public Task Ended => ended;

        /// <summary>Completes if the server cut the connection off rather than ending the response cleanly.</summary>
        public Task CutOff => cutOff;

        public string LastEventId => _parser.LastEventId;

        public TimeSpan Retry => _parser.ReconnectionInterval;

        /// <summary>
        /// The next event, with the number of its id (its epoch is in <see cref="LastEventId"/>), or null once the
        /// response has ended. Fails after 10 s of real time.
        /// </summary>
        public async Task<(string Id, string Type, string Data)?> NextAsync()
        {
            _items ??= _parser.EnumerateAsync().GetAsyncEnumerator();
            if (!await _items.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)))
            {
                return null;
            }

            return (_parser.LastEventId.Split('.')[0], _items.Current.EventType, _items.Current.Data);
        }

        /// <summary>
        /// The next event of a response on several streams, with the stream the last <c>bridge.stream</c> event named
        /// and the whole cursor; null once the response has ended.
        /// </summary>
        public async Task<(string Stream, string Cursor, string Type, string Data)?> NextOfSeveralAsync()
        {
            while (await NextAsync() is { } next)
            {
                if (next.Type == "bridge.stream")
                {
                    _stream = next.Data;
                    continue;
                }

                return (_stream, _parser.LastEventId, next.Type, next.Data);
            }

            return null;
        }

        public async Task<List<(string Id, string Type, string Data)>> TakeAsync(int count)
        {
            var events = new List<(string, string, string)>();
            while (events.Count < count && await NextAsync() is { } next)
            {
                events.Add(next);
            }

            return events;
        }

        /// <summary>
        /// Reads the raw text of the response, without parsing, until it holds <paramref name="marker"/> (for comments,
        /// which parsers drop). Do not mix with <see cref="NextAsync"/> on one response.
        /// </summary>
        public async Task<string> ReadRawUntilAsync(string marker)
        {
            var text = new System.Text.StringBuilder();
            while (!text.ToString().Contains(marker, StringComparison.Ordinal))
            {
                var read = await output.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                foreach (var segment in read.Buffer)
                {
                    text.Append(System.Text.Encoding.UTF8.GetString(segment.Span));
                }

                output.Reader.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted)
                {
                    break;
                }
            }

            return text.ToString();
        }

        /// <summary>The client goes away.</summary>
        public Task DisconnectAsync() => aborted.CancelAsync();

        public async ValueTask DisposeAsync()
        {
            await aborted.CancelAsync();
            await ended.WaitAsync(TimeSpan.FromSeconds(10));
            if (_items is not null)
            {
                await _items.DisposeAsync();
            }

            aborted.Dispose();
        }
    }
}
