namespace ExchangeBridge.Server.Hosting;

/// <summary>
/// The data folder holds the SQLite database (meeting subjects, attendees, encrypted credentials), the master key and
/// bootstrap.json: only the server's own user may read it. The folder is 0700 and every file in it 0600, on creation and
/// again at every start-up (a folder made by an older version, or copied in with a backup tool, is put right).
/// </summary>
public static class DataFolder
{
    public const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates the folder owner-only if it is missing, and makes it and every file in it owner-only.</summary>
    public static void Secure(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
            return;
        }
        Directory.CreateDirectory(path, OwnerOnlyFolder);
        File.SetUnixFileMode(path, OwnerOnlyFolder);
        foreach (var file in Directory.EnumerateFiles(path))
            File.SetUnixFileMode(file, OwnerOnlyFile);
    }

    /// <summary>
    /// Options that create a file owner-only. SQLite creates its database with 0644 (less the umask) and gives the -wal
    /// and -shm files the database's own mode, so the database file is created through these before SQLite opens it.
    /// </summary>
    public static FileStreamOptions OwnerOnly(FileMode mode, FileAccess access, FileShare share = FileShare.Read)
    {
        var options = new FileStreamOptions { Mode = mode, Access = access, Share = share };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = OwnerOnlyFile;
        return options;
    }
}
