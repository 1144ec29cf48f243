using System.Globalization;
using Azure.Data.Tables;
using WinterOps.Core.Workflows;

namespace WinterOps.Azure.Storage;

/// <summary>
/// One entry of a workflow's audit trail, in the workflow's own partition: row <c>event-{version}</c> (10 digits, so
/// rows sort by version), the stored type name, the data as JSON, when, and who (id, name, role, organisation).
/// </summary>
public static class AuditRow
{
    public const string Prefix = "event-";

    public static TableEntity For(string partitionKey, long version, string type, string data, DateTimeOffset at, Actor by) =>
        new(partitionKey, Prefix + version.ToString("D10", CultureInfo.InvariantCulture))
        {
            ["Version"] = version, ["Type"] = type, ["Data"] = data, ["At"] = at,
            ["ById"] = by.Id, ["ByName"] = by.Name, ["ByRole"] = by.Role, ["ByOrg"] = by.Org,
        };

    /// <summary>The filter of a partition's audit rows.</summary>
    public static string Filter(string partitionKey) =>
        TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey} and RowKey ge {Prefix} and RowKey lt {Prefix[..^1] + "."}");
}
