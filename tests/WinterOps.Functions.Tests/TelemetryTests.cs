using Azure.Identity;

namespace WinterOps.Functions.Tests;

/// <summary>Bicep turns Application Insights' local auth off: the exporter must then send an Entra token.</summary>
public sealed class TelemetryTests
{
    [Theory]
    [InlineData("ClientId=00000000-0000-4000-8000-0000000000c1;Authorization=AAD", true)]
    [InlineData("Authorization=AAD", true)]
    [InlineData(" authorization = aad ", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("Authorization=None", false)]
    [InlineData("ClientId=a;ClientId=b;Authorization=AAD", true)]
    public void AnAadAuthenticationString_GivesTheExporterAManagedIdentityCredential(string? authenticationString, bool expected)
    {
        var credential = WinterOpsServices.TelemetryCredential(authenticationString);

        (credential is ManagedIdentityCredential).ShouldBe(expected);
        if (!expected)
        {
            credential.ShouldBeNull();
        }
    }
}
