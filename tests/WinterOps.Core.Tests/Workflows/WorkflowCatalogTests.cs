using WinterOps.Core.Partners;
using WinterOps.Core.Workflows;

namespace WinterOps.Core.Tests.Workflows;

public sealed class WorkflowCatalogTests
{
    [Fact]
    public void Catalog_WithTwoWorkflowsOfOneName_Throws()
    {
        Should.Throw<ArgumentException>(() => new WorkflowCatalog([TicketWorkflow.Definition, TicketWorkflow.Definition]));
    }

    [Fact]
    public void Get_OfUnknownWorkflow_ThrowsUnknownTypeNamingIt()
    {
        var catalog = new WorkflowCatalog([TicketWorkflow.Definition]);

        Should.Throw<UnknownTypeException>(() => catalog.Get("placement")).Message.ShouldContain("'placement'");
    }

    [Fact]
    public void SerializeCommand_OfAnotherWorkflowsCommand_Throws()
    {
        IWorkflowDefinition ticket = TicketWorkflow.Definition;

        Should.Throw<ArgumentException>(() => ticket.SerializeCommand(new PartnerCommand.SetDetails("RC9", null!)));
    }

    [Fact]
    public void StreamId_IsWorkflowNameAndKey()
    {
        PartnerWorkflow.Definition.StreamId("RC9").ShouldBe("partner-RC9");
    }

    [Theory]
    [InlineData("")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("a\tb")]
    public void StreamId_WithCharactersAPartitionKeyCannotHold_IsRefused(string key)
    {
        Should.Throw<ArgumentException>(() => StreamIds.For("partner", key));
    }

    [Fact]
    public void StreamId_LongerThan200Characters_IsRefused()
    {
        Should.Throw<ArgumentException>(() => StreamIds.For("partner", new string('k', 201)));
        StreamIds.For("partner", new string('k', 200)).Length.ShouldBe("partner-".Length + 200);
    }
}
