using System.Diagnostics;
using System.Text.RegularExpressions;

namespace ExchangeBridge.Client.Tests.Readme;

/// <summary>
/// The README as a newcomer follows it in a fresh clone: its first command starts the demo server on a new data
/// folder, then every later bash block runs, in order, in one shell from the clone's root, and answers as the README
/// says. The clone is a scratch folder holding links to this one's <c>src</c> and <c>samples</c> (their builds
/// included), so its <c>data</c> folder is new. Two things are the test machine's own: the server listens on a free
/// port instead of 8080, and the builds are those of the tests' configuration.
/// </summary>
public sealed class ReadmeTests
{
    private const string FirstCommand =
        "dotnet run --project src/ExchangeBridge.Server -- --urls http://127.0.0.1:8080 --data-dir ./data --demo";
    private const string DocumentedAddress = "http://127.0.0.1:8080";
    private const string DocumentedBindingId = "ZW1haWxfYWRtaW5fZXhhbXBsZUBvdXRsb29rLmNvbSBlbWFpbF9hY2NvdW50X2V4YW1wbGVAb3V0bG9vay5jb20=";

    private static string Readme => File.ReadAllText(Path.Combine(ServerProcess.RepositoryRoot, "README.md"));

    [Fact]
    public void The_readme_starts_with_the_commands_that_run_the_server_and_the_tests()
    {
        var first = Blocks(Readme, "bash")[0];
        Assert.StartsWith("# ExchangeBridge\n\n```bash\n" + FirstCommand, Readme, StringComparison.Ordinal);
        Assert.Contains("\nbash tests/run-all.sh", first, StringComparison.Ordinal);
    }

    [Fact]
    public void The_client_example_is_the_sample_program_word_for_word()
    {
        var sample = File.ReadAllText(Path.Combine(ServerProcess.RepositoryRoot, "samples", "CreateBinding", "Program.cs"));
        Assert.Contains(sample, Blocks(Readme, "csharp"));
    }

    [Fact]
    public async Task The_readme_runs_as_written_and_answers_as_documented()
    {
        var clone = Directory.CreateTempSubdirectory("exbridge-readme-").FullName;
        string[] linked = ["src", "samples"];
        try
        {
            foreach (var folder in linked) Directory.CreateSymbolicLink(Path.Combine(clone, folder), Path.Combine(ServerProcess.RepositoryRoot, folder));
            string output;
            await using (var server = await ServerProcess.StartAsync(new ServerLaunch
                         {
                             DataDir = "./data", Demo = true, WorkingDirectory = clone, ThroughDotnetRun = true,
                         }))
            {
                var script = string.Join('\n', Blocks(Readme, "bash").Skip(1))
                    .Replace(DocumentedAddress, server.BaseAddress.ToString().TrimEnd('/'), StringComparison.Ordinal)
                    .Replace("/bin/Release/", $"/bin/{ServerProcess.Configuration}/", StringComparison.Ordinal);
                int exitCode;
                (exitCode, output) = await RunBashAsync(script, clone);
                Assert.True(exitCode == 0, $"the README's commands failed with exit code {exitCode}:\n{output}\nthe server said:\n{server.Output}");
            }

            // The tour's create: the seed page's answer.
            AssertSays("^HTTP/1.1 200 OK", output);
            AssertSays(Regex.Escape("\"status\":\"doing\""), output);
            AssertSays(Regex.Escape($"\"exchange_binding_id\":\"{DocumentedBindingId}\""), output);
            // The sample: the same binding, wherever its import has got to.
            AssertSays($"^{Regex.Escape(DocumentedBindingId)} (doing|cal_done|timespan_done|done)$", output);
            // exbridge status --watch: the row, done.
            AssertSays(@"email_account_example@outlook\.com.*demo_employee.*\bdone\b", output);
        }
        finally
        {
            // The links first, so that nothing deletes through them.
            foreach (var folder in linked) File.Delete(Path.Combine(clone, folder));
            Directory.Delete(clone, recursive: true);
        }
    }

    private static void AssertSays(string pattern, string output) =>
        Assert.True(Regex.IsMatch(output, pattern, RegexOptions.Multiline), $"no line matches {pattern} in:\n{output}");

    /// <summary>The contents of the README's fenced blocks of one language, in order.</summary>
    private static List<string> Blocks(string markdown, string language) =>
        Regex.Matches(markdown, $"(?ms)^```{language}\n(.*?)^```$").Select(m => m.Groups[1].Value).ToList();

    /// <summary>One shell for all the blocks (variables carry over), stopping at the first failing command.</summary>
    private static async Task<(int ExitCode, string Output)> RunBashAsync(string script, string workingDirectory)
    {
        var info = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var arg in new[] { "-euo", "pipefail", "-c", script }) info.ArgumentList.Add(arg);
        foreach (var inherited in info.Environment.Keys.Where(k => k.StartsWith("EXBRIDGE_", StringComparison.Ordinal)).ToList())
            info.Environment.Remove(inherited);
        using var bash = Process.Start(info)!;
        var output = new System.Text.StringBuilder();
        bash.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        bash.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        bash.BeginOutputReadLine();
        bash.BeginErrorReadLine();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await bash.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            bash.Kill(entireProcessTree: true);
            throw new TimeoutException($"the README's commands took more than five minutes:\n{output}");
        }
        bash.WaitForExit(); // the output's last lines
        lock (output) return (bash.ExitCode, output.ToString());
    }
}
