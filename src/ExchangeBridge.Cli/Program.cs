using System.CommandLine;
using ExchangeBridge.Cli.Commands;

var root = new RootCommand("exbridge: bind Exchange accounts to Feishu users in bulk, watch their import, and run an ExchangeBridge deployment");
foreach (var option in Connection.All) root.Options.Add(option);
root.Subcommands.Add(BindCommand.Create());
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(UnbindCommand.Create());
foreach (var command in OperatorCommands.Create()) root.Subcommands.Add(command);
root.Subcommands.Add(EventsCommand.Create());
return await root.Parse(args).InvokeAsync();
