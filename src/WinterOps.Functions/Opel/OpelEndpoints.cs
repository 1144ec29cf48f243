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

    public static void MapOpelEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/opel/frameworks", (FrameworkSet frameworks) => TypedResults.Ok(frameworks))
            .WithName("GetOpelFrameworks")
            .WithTags("OPEL")
            .WithSummary("The OPEL parameter tables, score bands and pillar weights in force; 'illustrative' until an ICS replaces them.")
            .RequireAuthorization();
    }
}
