// The storage account: the events table (created by Bridge on first use), the Functions host's own state, and the
// container Flex Consumption deploys the app's package from. Reached with the app's managed identity only.

param location string

@minLength(1)
param name string

param tags object

@description('The blob container the deployment package is uploaded to.')
param deploymentContainerName string

resource account 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  // Storage account names are 3-24 lowercase letters and digits, unique across Azure.
  name: 'st${toLower(take(replace(name, '-', ''), 9))}${uniqueString(resourceGroup().id, name)}'
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    supportsHttpsTrafficOnly: true
  }

  resource blobs 'blobServices' = {
    name: 'default'

    resource deployments 'containers' = {
      name: deploymentContainerName
    }
  }
}

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
