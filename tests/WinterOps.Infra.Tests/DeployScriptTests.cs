namespace WinterOps.Infra.Tests;

public class DeployScriptTests
{
    private static readonly string Script = Path.Combine(Repo.Root, "deploy.sh");

    [Fact]
    public async Task UpDryRun_PrintsTheDeploymentThenTheZipDeployWithoutRunningThem()
    {
        var (exitCode, output, error) = await Repo.RunAsync(Script, "up", "--resource-group", "rg-winterops-dev", "--environment", "dev", "--dry-run");

        exitCode.ShouldBe(0, error);
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries).ShouldBe(
        [
            "az deployment group create --resource-group rg-winterops-dev --name winterops-dev --template-file infra-bicep/main.bicep --parameters infra-bicep/dev.bicepparam",
            "az deployment group show --resource-group rg-winterops-dev --name winterops-dev --query properties.outputs.functionAppName.value --output tsv",
            "az functionapp deployment source config-zip --resource-group rg-winterops-dev --name <functionAppName> --src artifacts/functionapp.zip",
            "az deployment group show --resource-group rg-winterops-dev --name winterops-dev --query properties.outputs.teamsSenderClientId.value --output tsv",
            "# then writes artifacts/teams-app.zip with webApplicationInfo.id = <teamsSenderClientId>",
        ]);
    }

    [Fact]
    public async Task UpDryRun_UsesTheEnvironmentsParameterFileAndWarnsOfPlaceholders()
    {
        var (exitCode, output, error) = await Repo.RunAsync(Script, "up", "-g", "rg-winterops", "-e", "prod", "--package", "out/functionapp.zip", "--dry-run");

        exitCode.ShouldBe(0, error);
        output.ShouldContain("--name winterops-prod --template-file infra-bicep/main.bicep --parameters infra-bicep/prod.bicepparam");
        output.ShouldContain("--src out/functionapp.zip");
        error.ShouldContain("placeholder");
    }

    [Fact]
    public async Task Up_RefusesPlaceholderParameters()
    {
        var (exitCode, _, error) = await Repo.RunAsync(Script, "up", "--resource-group", "rg", "--environment", "dev");

        exitCode.ShouldBe(2);
        error.ShouldContain("placeholder values");
    }

    [Theory]
    [InlineData("up", "--environment", "dev")]
    [InlineData("up", "--resource-group", "rg", "--environment", "test")]
    [InlineData("package", "--bogus")]
    [InlineData("deploy")]
    public async Task BadArguments_FailWithUsage(params string[] arguments)
    {
        var (exitCode, _, error) = await Repo.RunAsync(Script, arguments);

        exitCode.ShouldBe(2);
        error.ShouldNotBeEmpty();
    }

    [Fact]
    public async Task Help_ListsTheCommands()
    {
        var (exitCode, output, _) = await Repo.RunAsync(Script, "--help");

        exitCode.ShouldBe(0);
        output.ShouldContain("./deploy.sh package");
        output.ShouldContain("./deploy.sh up --resource-group RG --environment dev|prod");
    }
}
