using WinterOps.LocalHost;

await LocalHostApp.Build(args).RunAsync();
