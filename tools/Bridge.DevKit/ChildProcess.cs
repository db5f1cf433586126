using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Bridge.DevKit;

/// <summary>
/// A process started for development, a test or a benchmark, which cannot outlive the process that started it: it
/// runs under <c>exit-with-caller.js</c>, which kills it when this process's end of its standard input closes, as the
/// operating system does however this process ends (a test host killed for hanging included). Its output is kept.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private static readonly string Watchdog = Path.Combine(AppContext.BaseDirectory, "exit-with-caller.js");

    private readonly Process _watchdog;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _pid = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<(Func<string, bool> Matches, TaskCompletionSource<string> Line)> _waiters = [];

    private ChildProcess(Process watchdog) => _watchdog = watchdog;

    /// <summary>The command's own process id, for signalling it.</summary>
    public int Id { get; private set; }

    public bool HasExited => _watchdog.HasExited;

    /// <summary>Everything the command wrote to its output and error streams so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts <paramref name="command"/> with <paramref name="arguments"/>, in this process's environment changed by
    /// <paramref name="environment"/>, where a null value removes a variable.
    /// </summary>
    public static async Task<ChildProcess> StartAsync(string command, IEnumerable<string> arguments, IDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Watchdog);
        start.ArgumentList.Add(command);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var watchdog = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {command}.");
        var child = new ChildProcess(watchdog);
        watchdog.OutputDataReceived += (_, line) => child.Record(line.Data);
        watchdog.ErrorDataReceived += (_, line) => child.Record(line.Data);
        watchdog.EnableRaisingEvents = true;
        watchdog.Exited += (_, _) => child.Failed($"{command} exited with code {watchdog.ExitCode}.");
        watchdog.BeginOutputReadLine();
        watchdog.BeginErrorReadLine();
        child.Id = await child._pid.Task.WaitAsync(TimeSpan.FromSeconds(30));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => child.Kill();
        return child;
    }

    /// <summary>Waits for an output line that <paramref name="matches"/>, and returns it.</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> matches, TimeSpan timeout)
    {
        var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            foreach (var earlier in _output.ToString().Split('\n'))
            {
                if (matches(earlier))
                {
                    return Task.FromResult(earlier);
                }
            }

            _waiters.Add((matches, line));
        }

        return line.Task.WaitAsync(timeout);
    }

    /// <summary>
    /// Sends a signal (SIGTERM, SIGSTOP, SIGCONT…) to the command itself, while it runs. Once the watchdog has exited,
    /// so has the command, and its process id may already belong to an unrelated process: nothing is sent then.
    /// </summary>
    public void Signal(int signal)
    {
        if (Id > 0 && !_watchdog.HasExited)
        {
            _ = SendSignal(Id, signal);
        }
    }

    /// <summary>Waits for the command to exit.</summary>
    public Task WaitForExitAsync(TimeSpan timeout) => _watchdog.WaitForExitAsync().WaitAsync(timeout);

    /// <summary>Kills the command at once, as a crash would.</summary>
    public void Kill()
    {
        try
        {
            if (!_watchdog.HasExited)
            {
                Signal(SigKill);
                _watchdog.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>
    /// Kills the command and waits for it asynchronously. Never blocking here matters: the caller may be on a socket
    /// thread, the same one that must deliver the end of the output for the wait to finish.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Kill();
        await _watchdog.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30)).ContinueWith(_ => { }, TaskScheduler.Default);
        _watchdog.Dispose();
    }

    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (!_pid.Task.IsCompleted && line.StartsWith("child ", StringComparison.Ordinal))
        {
            _pid.TrySetResult(int.Parse(line.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture));
            return;
        }

        List<TaskCompletionSource<string>> matched;
        lock (_output)
        {
            _output.AppendLine(line);
            matched = [.. _waiters.Where(waiter => waiter.Matches(line)).Select(waiter => waiter.Line)];
            _waiters.RemoveAll(waiter => matched.Contains(waiter.Line));
        }

        matched.ForEach(waiter => waiter.TrySetResult(line));
    }

    private void Failed(string reason)
    {
        _pid.TrySetException(new InvalidOperationException(reason + "\n" + Output));
        lock (_output)
        {
            _waiters.ForEach(waiter => waiter.Line.TrySetException(new InvalidOperationException(reason + "\n" + _output)));
            _waiters.Clear();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
