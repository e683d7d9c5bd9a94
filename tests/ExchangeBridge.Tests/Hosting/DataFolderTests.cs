using ExchangeBridge.Tests.Infrastructure;

namespace ExchangeBridge.Tests.Hosting;

/// <summary>The data folder and every file in it are the server's user's alone.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataFolderTests
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private static void AssertOwnerOnly(string dataDir, params string[] expected)
    {
        Assert.Equal(Folder, System.IO.File.GetUnixFileMode(dataDir));
        var names = Directory.GetFiles(dataDir).Select(Path.GetFileName).ToList();
        foreach (var name in expected) Assert.Contains(name, names);
        foreach (var file in Directory.GetFiles(dataDir))
            Assert.True(System.IO.File.GetUnixFileMode(file) == File, $"{Path.GetFileName(file)} is {System.IO.File.GetUnixFileMode(file)}");
    }

    [Fact]
    public async Task The_folder_and_every_file_are_owner_only_when_created_and_put_right_at_start_up()
    {
        // A folder as a default umask makes it: world-readable.
        var dataDir = Path.Combine(Directory.CreateTempSubdirectory("exbridge-folder-").FullName, "data");
        string[] files = TestDatabases.OnPostgres
            ? ["bootstrap.json", "master.key"]
            : ["bootstrap.json", "master.key", "exchangebridge.db", "exchangebridge.db-wal", "exchangebridge.db-shm", "exchangebridge.owner"];
        var postgres = TestDatabases.CreatePostgresDatabase();
        try
        {
            await using (var server = new TestServer(dataDir, postgresConnectionString: postgres))
            {
                await server.AdminUserTokenAsync(); // writes: tokens, a code
                AssertOwnerOnly(dataDir, files);
            }

            // Loosened behind the server's back (an older version, a restore from backup): the next start puts it right.
            System.IO.File.SetUnixFileMode(dataDir, Folder | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            foreach (var file in Directory.GetFiles(dataDir))
                System.IO.File.SetUnixFileMode(file, File | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            await using (var server = new TestServer(dataDir, postgresConnectionString: postgres))
            {
                await server.AdminUserTokenAsync();
                AssertOwnerOnly(dataDir, files);
            }
        }
        finally
        {
            TestDatabases.DropPostgresDatabase(postgres);
        }
    }
}
