// Shapes shared by main.bicep, its modules and the parameter files.

@export()
@description('A partner organisation that receives WinterOps events from its own Service Bus subscription.')
type partner = {
  @description('ODS code (or CQC location id); names the subscription and is matched against the TargetOrg message property.')
  @minLength(1)
  @maxLength(50)
  odsCode: string

  @description('Display name, for people reading the parameter file.')
  name: string

  @description('SQL filter replacing the default one, e.g. "TargetOrg = \'RZ1\' AND EventType = \'PlacementOffered\'".')
  filter: string?

  @description('Object id of the partner\'s service principal in this tenant, given Azure Service Bus Data Receiver on this subscription only.')
  receiverPrincipalId: string?
}
