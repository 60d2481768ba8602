using System.Diagnostics;

namespace RichLazyOrleans.RunKinds;

/// <summary>
/// The run spec file a `command` program gets in `$RICHLAZY_SPEC_FILE`: it may hold secrets (the spec's `env`), so
/// it is created mode 0600 in a directory only this user may enter (0700), named after the silo's process, and
/// removed when the program ends; files left by a process that no longer exists (a SIGKILLed silo) are removed the
/// first time this process writes one.
/// </summary>
public static class CommandSpecFiles
{
    private static readonly Lazy<string> Folder = new(Prepare);

    /// <summary>The private folder: TMP/richlazy-specs-USER.</summary>
    public static string Directory => Folder.Value;

    public static string Write(string specJson)
    {
        string path = Path.Combine(Folder.Value, $"spec-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var w = new StreamWriter(path, System.Text.Encoding.UTF8, options)) w.Write(specJson);
        return path;
    }

    public static void Remove(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static string Prepare()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"richlazy-specs-{Environment.UserName}");
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(dir);
        else
        {
            const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            System.IO.Directory.CreateDirectory(dir, Private);
            File.SetUnixFileMode(dir, Private);   // an existing folder too
        }
        foreach (var file in System.IO.Directory.EnumerateFiles(dir, "spec-*.json"))
            if (OwnerGone(Path.GetFileName(file))) Remove(file);
        return dir;
    }

    /// <summary>Whether the process that wrote spec-PID-GUID.json is gone.</summary>
    private static bool OwnerGone(string name)
    {
        var parts = name.Split('-');
        if (parts.Length < 3 || !int.TryParse(parts[1], out int pid)) return false;
        if (pid == Environment.ProcessId) return false;
        try
        {
            using var p = Process.GetProcessById(pid);
            return p.HasExited;
        }
        catch (ArgumentException) { return true; }   // no such process
        catch (InvalidOperationException) { return true; }
    }
}
