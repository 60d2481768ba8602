using System.CommandLine;
using RichLazyOrleans.Cli;
using RichLazyOrleans.RunKinds;
using RichLazyOrleans;

// Exit codes: 0 success, 2 bad input (one line naming the key or file), 1 any other failure.
var root = CliRoot.Create();

var parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    Console.Error.WriteLine($"richlazy: {parse.Errors[0].Message}");
    return 2;
}
try
{
    return await parse.InvokeAsync(new InvocationConfiguration
    {
        EnableDefaultExceptionHandler = false,
        // SIGTERM/Ctrl+C cancel the command's token; a silo then needs time to checkpoint its runs and
        // leave (System.CommandLine's default would kill the process after two seconds).
        ProcessTerminationTimeout = TimeSpan.FromMinutes(15),
    });
}
catch (SpecException e)
{
    Console.Error.WriteLine($"richlazy: {e.Message}");
    return 2;
}
catch (Exception e) when (Environment.GetEnvironmentVariable("RICHLAZY_DEBUG") != "1")
{
    Console.Error.WriteLine($"richlazy: {e.GetType().Name}: {e.Message.Split('\n')[0]} "
        + "(set RICHLAZY_DEBUG=1 for the stack trace)");
    return 1;
}
