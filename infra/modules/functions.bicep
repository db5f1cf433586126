// The Function App on the Flex Consumption plan, .NET isolated, running as the user-assigned identity. Every app
// setting is spelled as the code binds it (docs/configuration.md); a test compares them with the code.

param location string
param name string
param tags object
param identityId string
param identityClientId string
param storageAccountName string
param deploymentContainerUrl string
param insightsConnectionString string
param serviceBusNamespace string
param topicName string
param subscriptionName string
param authIssuer string
param authAudience string
param jwksUrl string
param signingKeySecretUri string
param publicStreams string
param corsAllowedOrigins array
param corsAllowCredentials bool
param maxResponseSeconds int

@description('True when the subscription requires sessions: the session-aware ingest function runs instead of the plain one.')
param sessions bool
param maximumInstanceCount int
param instanceMemoryMB int

// Settings whose value is empty are left out, so the code's defaults apply.
var appSettings = [
  { name: 'AzureWebJobsStorage__accountName', value: storageAccountName }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
  { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusNamespace }
  { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
  { name: 'ServiceBusConnection__clientId', value: identityClientId }
  { name: 'ServiceBusTopic', value: topicName }
  { name: 'ServiceBusSubscription', value: subscriptionName }
  // A trigger's session mode is compiled in, so the app has two ingest functions and runs the one that fits.
  { name: 'AzureWebJobs.Ingest.Disabled', value: string(sessions) }
  { name: 'AzureWebJobs.IngestSessions.Disabled', value: string(!sessions) }
  { name: 'Auth__Mode', value: 'Jwt' }
  { name: 'Auth__Issuer', value: authIssuer }
  { name: 'Auth__Audience', value: authAudience }
  { name: 'Auth__JwksUrl', value: jwksUrl }
  { name: 'Auth__SigningKey', value: empty(signingKeySecretUri) ? '' : '@Microsoft.KeyVault(SecretUri=${signingKeySecretUri})' }
  { name: 'Auth__PublicStreams', value: publicStreams }
  { name: 'Sse__MaxDurationSeconds', value: string(maxResponseSeconds) }
  // The worker's ASP.NET Core integration already resolves the front end's X-Forwarded-For into the client address.
  { name: 'Limits__TrustForwardedFor', value: 'false' }
]

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${name}'
  location: location
  // azd deploys the "functions" service of azure.yaml to the site that carries this tag.
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      cors: {
        allowedOrigins: corsAllowedOrigins
        supportCredentials: corsAllowCredentials
      }
      appSettings: filter(appSettings, setting => !empty(setting.value))
    }
  }
}

output name string = app.name
output url string = 'https://${app.properties.defaultHostName}'
