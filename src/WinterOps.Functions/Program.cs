using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using WinterOps.Functions;

// The Azure Functions .NET isolated worker. The local host (src/WinterOps.LocalHost) runs the same functions
// with the same services, without the Functions host.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddWinterOps(builder.Configuration, builder.Environment);
builder.Services.Configure<Microsoft.Azure.Functions.Worker.WorkerOptions>(o => o.Serializer = new Azure.Core.Serialization.JsonObjectSerializer(WinterOpsServices.DurableJson));
var app = builder.Build();
WinterOpsServices.ValidateOnStart(app.Services);
await app.RunAsync();
