// Development environment. Replace every value marked CHANGE before the first deployment.
using 'main.bicep'

param environmentName = 'dev'

// CHANGE: client id of the WinterOps API app registration (README, "Deploy to Azure").
param authAudience = '00000000-0000-0000-0000-000000000000'

// CHANGE: client id of the pages' SPA app registration (README, "Deploy to Azure"); empty: the pages cannot sign in.
param webClientId = ''

// CHANGE: ODS code of your ICB (its contacts are the executive on-call ladder).
param escalationsSystemOrg = 'QZZ'

// CHANGE: partner organisations with their own Service Bus subscription. A filter is optional;
// the default is "TargetOrg = '<odsCode>' OR TargetOrg = 'ALL'".
param partners = [
  { odsCode: 'RZ1', name: 'Bedmoor Hospitals NHS Trust (demo)' }
  { odsCode: 'RZ8', name: 'Riverside Hospice (demo)', filter: 'TargetOrg = \'RZ8\'' } // its own messages only, not the system-wide ones
]

param maximumInstanceCount = 40
param storageSku = 'Standard_LRS'
param logRetentionInDays = 30
param tags = { costCentre: 'winterops-dev' }
