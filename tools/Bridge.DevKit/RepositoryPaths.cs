namespace Bridge.DevKit;

/// <summary>Where things are in the repository, found from the test assembly's location.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository's root: the directory that holds <c>Bridge.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The build configuration the tests were built with (Debug or Release).</summary>
    public static string Configuration { get; } =
        new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;

    /// <summary>The standalone server's built assembly, for starting it as a separate process.</summary>
    public static string ServerAssembly { get; } =
        Path.Combine(Root, "src", "Bridge.Server", "bin", Configuration, "net10.0", "Bridge.Server.dll");

    /// <summary>The local Service Bus endpoint's built assembly (tools/Bridge.LocalServiceBus).</summary>
    public static string LocalServiceBusAssembly { get; } =
        Path.Combine(Root, "tools", "Bridge.LocalServiceBus", "bin", Configuration, "net10.0", "Bridge.LocalServiceBus.dll");

    /// <summary>Azurite's Table service launcher, installed by <c>npm ci</c>.</summary>
    public static string AzuriteTable { get; } = Path.Combine(Root, "node_modules", ".bin", "azurite-table");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Bridge.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Bridge.sln above {AppContext.BaseDirectory}; run this from the repository.");
    }
}
