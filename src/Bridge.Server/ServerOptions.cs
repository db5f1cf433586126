using Microsoft.Extensions.Options;

namespace Bridge.Server;

/// <summary>Settings of the standalone server's web host, bound from the <c>Server</c> section.</summary>
public sealed class ServerOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Server";

    /// <summary>
    /// Run response code on Kestrel's socket threads instead of handing each continuation to the thread pool
    /// (<c>Server__InlineScheduling</c>, Kestrel's <c>UnsafePreferInlineScheduling</c>). Fanning an event out to
    /// thousands of connections then costs one thread hop less per connection; on the benchmark machine it cut the
    /// 99th-percentile delivery time at 10,000 connections by about a third (docs/benchmarks.md). It is safe because
    /// nothing in Bridge's request handling blocks a thread; turn it off if you add middleware that does.
    /// </summary>
    public bool InlineScheduling { get; set; } = true;

    /// <summary>
    /// The most client connections held at once (<c>Server__MaxConnections</c>); beyond it, new connections are closed
    /// at once. 0, the default, means the process's open-file limit minus <see cref="ReservedFileDescriptors"/>: a
    /// process that runs out of file descriptors can fail in ways no code of its own can handle (the .NET runtime has
    /// been seen to abort with "Out of memory."), so the server stops accepting well before that.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(0, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>File descriptors kept free for storage connections, files and the runtime when the limit is derived.</summary>
    public const int ReservedFileDescriptors = 512;

    /// <summary>
    /// Reads and checks the settings now: Kestrel is configured before the app's services exist, so they cannot wait
    /// for the validation that runs at start-up.
    /// </summary>
    /// <exception cref="OptionsValidationException">A setting is out of range; the message names it.</exception>
    public static ServerOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(SectionName).Get<ServerOptions>() ?? new ServerOptions();
        var errors = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), errors, validateAllProperties: true))
        {
            throw new OptionsValidationException(SectionName, typeof(ServerOptions), errors.Select(error => $"{SectionName}: {error.ErrorMessage}"));
        }

        return options;
    }

    /// <summary>The connection limit to apply: the configured one, or one derived from the open-file limit, if any.</summary>
    public long? EffectiveMaxConnections() =>
        MaxConnections > 0 ? MaxConnections : OpenFileLimit.Current() is { } limit ? Math.Max(1, limit - ReservedFileDescriptors) : null;
}
