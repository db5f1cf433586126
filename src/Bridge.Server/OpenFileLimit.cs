using System.Runtime.InteropServices;

namespace Bridge.Server;

/// <summary>The process's open-file limit (the soft RLIMIT_NOFILE), where the operating system has one.</summary>
internal static partial class OpenFileLimit
{
    private const int ResourceOpenFiles = 7; // RLIMIT_NOFILE on Linux

    /// <summary>The limit, or null where it is unknown or unlimited.</summary>
    public static long? Current()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return GetResourceLimit(ResourceOpenFiles, out var limit) == 0 && limit.Current < long.MaxValue ? (long)limit.Current : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetResourceLimit(int resource, out ResourceLimit limit);
}
