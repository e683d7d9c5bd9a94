namespace ExchangeBridge.Tests.Hosting;

[Trait("Database", "Independent")]
public sealed class RelativeDataDirTests
{
    /// <summary>
    /// The README's first command, <c>dotnet run --project src/ExchangeBridge.Server -- … --data-dir ./data</c>, and the
    /// built server alike: the SDK starts the program in the project's folder unless told otherwise.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_relative_data_dir_is_the_folder_the_command_was_started_in(bool throughDotnetRun)
    {
        var typedIn = Directory.CreateTempSubdirectory("exbridge-typed-in-").FullName;
        var relative = "data-" + Guid.NewGuid().ToString("N")[..12];
        var underTheProject = Path.Combine(ServerProcess.RepositoryRoot, "src", "ExchangeBridge.Server", relative);
        try
        {
            await using var server = await ServerProcess.StartAsync(new ServerLaunch
            {
                DataDir = relative, WorkingDirectory = typedIn, ThroughDotnetRun = throughDotnetRun, Demo = false,
            });

            Assert.True(File.Exists(Path.Combine(typedIn, relative, "bootstrap.json")), "bootstrap.json is in the folder the command was started in");
            Assert.False(Directory.Exists(underTheProject), "no data folder in the project's folder");
        }
        finally
        {
            // A wrong answer would leave a master key in the clone: take it away.
            if (Directory.Exists(underTheProject)) Directory.Delete(underTheProject, recursive: true);
            Directory.Delete(typedIn, recursive: true);
        }
    }
}
