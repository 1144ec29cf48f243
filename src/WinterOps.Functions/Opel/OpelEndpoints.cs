using Microsoft.Azure.Functions.Worker;
using WinterOps.Functions.Http;
using WinterOps.Core.Opel;

namespace WinterOps.Functions.Opel;

public static class OpelEndpoints
{
    /// <summary>
    /// The OPEL tables in force: the committed illustrative defaults, or the file named by
    /// <c>Opel__FrameworksFile</c> (same shape as src/WinterOps.Core/Opel/frameworks.json).
    /// </summary>
    public static FrameworkSet LoadFrameworks(IConfiguration configuration) =>
        configuration["Opel:FrameworksFile"] is { Length: > 0 } path ? FrameworkSet.Load(File.ReadAllText(path)) : FrameworkSet.Default;

    /// <summary>The OPEL parameter tables, score bands and pillar weights in force; 'illustrative' until an ICS replaces them.</summary>
    [Function("GetOpelFrameworks")]
    public static Task GetOpelFrameworks([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "api/opel/frameworks")] HttpRequest request) =>
        Api.RunAsync(request, Access.AnyCaller, static (FrameworkSet frameworks) => TypedResults.Ok(frameworks));
}
