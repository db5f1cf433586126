// Bridge on Azure: the Functions app on Flex Consumption, its storage, the Service Bus topic producers publish to,
// Application Insights, and a managed identity with the least it needs. No keys and no secrets in app settings.
// `azd up` deploys it (azure.yaml); docs/azure.md walks through it.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('The azd environment name: names the resource group and, with a hash, every resource.')
param environmentName string

@minLength(1)
@description('The Azure region.')
param location string

@description('The Service Bus topic producers publish to.')
param topicName string = 'bridge-events'

@description('The topic subscription Bridge reads.')
param subscriptionName string = 'bridge'

@description('Make the subscription session-aware, so each stream keeps its publish order end to end (producers set SessionId to the stream).')
param sessions bool = false

@description('The required token issuer (iss). Recommended.')
param authIssuer string = ''

@description('The required token audience (aud). Recommended.')
param authAudience string = ''

@description('Where the token issuer publishes its keys (RS256, ES256…). Give this or signingKeySecretUri.')
param jwksUrl string = ''

@description('The Key Vault secret holding the HS256 signing key (base64, 32 bytes or more), as https://<vault>.vault.azure.net/secrets/<name>. Give this or jwksUrl.')
param signingKeySecretUri string = ''

@description('The Key Vault holding that secret, in the same resource group, so the app is granted read access; empty when it is granted elsewhere.')
param keyVaultName string = ''

@description('Streams anyone may read without a token: names or prefix*, comma-separated.')
param publicStreams string = ''

@description('Origins whose pages may call Bridge from a browser.')
param corsAllowedOrigins array = []

@description('Let those origins send the subscriber cookie.')
param corsAllowCredentials bool = true

@minValue(10)
@maxValue(229)
@description('The longest an SSE response lasts (Sse__MaxDurationSeconds): below the front end\'s 230 s cut-off.')
param maxResponseSeconds int = 120

@description('The most instances Flex Consumption scales to.')
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
@description('Memory per instance, in MB.')
param instanceMemoryMB int = 2048

var name = '${environmentName}-${take(uniqueString(subscription().id, environmentName, location), 6)}'
var tags = { 'azd-env-name': environmentName, app: 'bridge' }
var deploymentContainerName = 'deployments'

resource group 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: group
  params: { location: location, name: name, tags: tags }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: group
  params: { location: location, name: name, tags: tags, deploymentContainerName: deploymentContainerName }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  scope: group
  params: {
    location: location
    name: name
    tags: tags
    topicName: topicName
    subscriptionName: subscriptionName
    sessions: sessions
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: group
  params: {
    location: location
    name: name
    tags: tags
    storageAccountName: storage.outputs.name
    serviceBusNamespaceName: serviceBus.outputs.name
    topicName: topicName
    insightsName: monitoring.outputs.insightsName
    keyVaultName: keyVaultName
  }
}

module functions 'modules/functions.bicep' = {
  name: 'functions'
  scope: group
  params: {
    location: location
    name: name
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${deploymentContainerName}'
    insightsConnectionString: monitoring.outputs.connectionString
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    topicName: topicName
    subscriptionName: subscriptionName
    authIssuer: authIssuer
    authAudience: authAudience
    jwksUrl: jwksUrl
    signingKeySecretUri: signingKeySecretUri
    publicStreams: publicStreams
    corsAllowedOrigins: corsAllowedOrigins
    corsAllowCredentials: corsAllowCredentials
    maxResponseSeconds: maxResponseSeconds
    sessions: sessions
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

output AZURE_RESOURCE_GROUP string = group.name
output BRIDGE_URL string = functions.outputs.url
output SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output SERVICE_BUS_TOPIC string = topicName
