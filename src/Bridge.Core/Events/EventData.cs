using System.Diagnostics.CodeAnalysis;
using System.Text.Unicode;

namespace Bridge.Events;

/// <summary>The rules for an event's data.</summary>
public static class EventData
{
    /// <summary>
    /// The largest data stored: 256 KiB, the message size of a standard-tier message broker, so that any message a
    /// producer can send through one can become an event.
    /// </summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>
    /// Checks that <paramref name="data"/> fits and is UTF-8 text. SSE is a UTF-8 text protocol: bytes that are not
    /// UTF-8 would reach a browser mangled, so they are refused up front instead.
    /// </summary>
    /// <param name="data">The data.</param>
    /// <param name="problem">What is wrong, when something is.</param>
    public static bool TryValidate(ReadOnlySpan<byte> data, [NotNullWhen(false)] out EventDataProblem? problem)
    {
        if (data.Length > MaxBytes)
        {
            problem = new EventDataProblem(
                EventDataProblemKind.TooLarge,
                $"Event data has at most {MaxBytes} bytes (256 KiB); this has {data.Length}.");
            return false;
        }

        if (!Utf8.IsValid(data))
        {
            problem = new EventDataProblem(
                EventDataProblemKind.NotUtf8,
                "Event data must be UTF-8 text, because Server-Sent Events carry text; this data is not valid UTF-8.");
            return false;
        }

        problem = null;
        return true;
    }
}

/// <summary>Why event data was refused.</summary>
public enum EventDataProblemKind
{
    /// <summary>Larger than <see cref="EventData.MaxBytes"/>.</summary>
    TooLarge,

    /// <summary>Not valid UTF-8.</summary>
    NotUtf8,
}

/// <summary>Why event data was refused, with a message for the publisher.</summary>
public sealed record EventDataProblem(EventDataProblemKind Kind, string Message);
