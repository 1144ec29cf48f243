using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WinterOps.Core.Workflows;

namespace WinterOps.Functions.Auth;

/// <summary>The app roles of the WinterOps Entra app registration.</summary>
public static class Roles
{
    public const string Coordinator = "Coordinator";
    public const string DischargeTeam = "DischargeTeam";
    public const string Broker = "Broker";
    public const string Partner = "Partner";
    public const string Executive = "Executive";

    public static IReadOnlyList<string> All { get; } = [Coordinator, DischargeTeam, Broker, Partner, Executive];
}

/// <summary>Token validation settings (section <c>Auth</c>). Claim names are configurable per tenant.</summary>
public sealed class AuthOptions
{
    /// <summary>The Entra authority, e.g. https://login.microsoftonline.com/{tenant}/v2.0. Required outside Development.</summary>
    public string? Authority { get; set; }

    /// <summary>The API's application id URI or client id, as tokens carry it in <c>aud</c>.</summary>
    public string? Audience { get; set; }

    public string RoleClaim { get; set; } = "roles";

    /// <summary>The claim with the caller's organisation(s): ODS codes or CQC location ids (may repeat).</summary>
    public string OrgClaim { get; set; } = "org";

    public string NameClaim { get; set; } = "name";

    /// <summary>Switches the local development issuer on (POST /api/dev/token); honoured only in the Development environment.</summary>
    public bool DevelopmentIssuer { get; set; }
}

/// <summary>The authenticated caller as the API sees them.</summary>
public sealed record Caller(string Id, string Name, IReadOnlyList<string> Roles, IReadOnlyList<string> Orgs)
{
    public bool IsIn(string role) => Roles.Contains(role);

    public bool ActsFor(string org) => Orgs.Contains(org, StringComparer.OrdinalIgnoreCase);

    public Actor ToActor() => new(Id, Name, Roles.Count > 0 ? Roles[0] : "", Orgs.Count > 0 ? Orgs[0] : null);

    /// <summary>
    /// Whose inbox the caller reads: its organisations, and its roles except Broker. Every home's brokers share
    /// that role, so a broker reads its own homes' notices only.
    /// </summary>
    public IEnumerable<Recipient> Recipients =>
        Orgs.Select(Recipient.Org).Concat(Roles.Where(r => r != Auth.Roles.Broker).Select(Recipient.Role));

    public static Caller From(ClaimsPrincipal user, AuthOptions options) => new(
        user.FindFirstValue("oid") ?? user.FindFirstValue("sub") ?? "anonymous",
        user.FindFirstValue(options.NameClaim) ?? "unknown",
        user.FindAll(options.RoleClaim).Select(c => c.Value).ToList(),
        user.FindAll(options.OrgClaim).Select(c => c.Value).ToList());
}

/// <summary>
/// The local development issuer: signs tokens for demo users with a key made at start-up and never
/// stored. It exists only in the Development environment.
/// </summary>
public sealed class DevTokenIssuer
{
    public const string Issuer = "https://winterops.local/dev-issuer";
    public const string Audience = "api://winterops-dev";

    private readonly TimeProvider _time;
    private readonly AuthOptions _options;

    public DevTokenIssuer(TimeProvider time, AuthOptions options)
    {
        _time = time;
        _options = options;
        Key = new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) { KeyId = "winterops-dev" };
    }

    public SymmetricSecurityKey Key { get; }

    public (string Token, DateTimeOffset ExpiresAt) Issue(string role, string? org, string name)
    {
        var now = _time.GetUtcNow();
        var expires = now.AddHours(8);
        var claims = new Dictionary<string, object>
        {
            ["sub"] = $"dev-{Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{role}|{org}|{name}")))[..16]}",
            [_options.NameClaim] = name,
            [_options.RoleClaim] = new[] { role },
        };
        if (org is not null)
        {
            claims[_options.OrgClaim] = org;
        }

        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(Key, SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }
}

public static class AuthSetup
{
    /// <summary>
    /// Bearer tokens: Entra's (Auth__Authority, Auth__Audience), or, only in the Development environment and
    /// only when switched on (Auth__DevelopmentIssuer=true), the local development issuer's.
    /// </summary>
    public static void AddWinterOpsAuth(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var options = configuration.GetSection("Auth").Get<AuthOptions>() ?? new AuthOptions();
        services.AddSingleton(options);
        var developmentIssuer = environment.IsDevelopment() && options.DevelopmentIssuer;
        if (developmentIssuer)
        {
            services.AddSingleton<DevTokenIssuer>();
        }
        else if (string.IsNullOrWhiteSpace(options.Authority) || string.IsNullOrWhiteSpace(options.Audience))
        {
            throw new InvalidOperationException(
                "Set Auth__Authority and Auth__Audience, or, in the Development environment only, Auth__DevelopmentIssuer=true.");
        }

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IServiceProvider>((jwt, provider) =>
        {
            jwt.MapInboundClaims = false;
            jwt.TokenValidationParameters.RoleClaimType = options.RoleClaim;
            jwt.TokenValidationParameters.NameClaimType = options.NameClaim;
            if (developmentIssuer && string.IsNullOrWhiteSpace(options.Authority))
            {
                var issuer = provider.GetRequiredService<DevTokenIssuer>();
                jwt.TokenValidationParameters.ValidIssuer = DevTokenIssuer.Issuer;
                jwt.TokenValidationParameters.ValidAudience = DevTokenIssuer.Audience;
                jwt.TokenValidationParameters.IssuerSigningKey = issuer.Key;
            }
            else
            {
                jwt.Authority = options.Authority;
                jwt.Audience = options.Audience;
            }
        });
    }

    /// <summary>The caller of the current request (the function must require a signed-in caller).</summary>
    public static Caller Caller(this HttpContext context) =>
        Auth.Caller.From(context.User, context.RequestServices.GetRequiredService<AuthOptions>());
}
