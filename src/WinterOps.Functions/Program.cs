using WinterOps.Functions;
using WinterOps.Functions.Hosting;

// `write-functions <dir>` regenerates the Azure Functions layout (function.json per function) from the code.
if (args is ["write-functions", var directory, ..])
{
    var manifestApp = WinterOpsApp.Build(["--environment", "Production"], b =>
    {
        b.Configuration["Auth:Authority"] = "https://login.microsoftonline.com/manifest";
        b.Configuration["Auth:Audience"] = "api://manifest";
        b.Configuration["Storage"] = "UseDevelopmentStorage=true";
        b.Configuration["LocalTriggers:Enabled"] = "false";
    });
    FunctionManifest.Write(((IEndpointRouteBuilder)manifestApp).DataSources, directory);
    Console.WriteLine($"Wrote {FunctionManifest.Read(directory).Count} functions to {directory}");
    return;
}

await WinterOpsApp.Build(args).RunAsync();
