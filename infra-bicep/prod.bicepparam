// Production environment. Replace every value marked CHANGE before the first deployment.
using 'main.bicep'

param environmentName = 'prod'

// CHANGE: client id of the WinterOps API app registration (README, "Deploy to Azure").
param authAudience = '00000000-0000-0000-0000-000000000000'

// CHANGE: client id of the pages' SPA app registration (README, "Deploy to Azure"); empty: the pages cannot sign in.
param webClientId = ''

// CHANGE: ODS code of your ICB (its contacts are the executive on-call ladder).
param escalationsSystemOrg = 'QZZ'

// CHANGE: partner organisations with their own Service Bus subscription; receiverPrincipalId (optional)
// is the object id of the partner's service principal, given Data Receiver on its subscription only.
param partners = [
  { odsCode: 'RZ1', name: 'Bedmoor Hospitals NHS Trust' }
]

param maximumInstanceCount = 100
// Discharge teams and brokers wait on these answers: no cold start for the HTTP functions.
param alwaysReadyHttpInstances = 2
param storageSku = 'Standard_ZRS'
param logRetentionInDays = 90
param tags = { costCentre: 'winterops-prod' }
