// The Service Bus namespace producers publish to: the ingest topic, with duplicate detection, and Bridge's
// subscription, whose lock duration, delivery count and dead-lettering are set for how Bridge settles messages.

param location string
param name string
param tags object
param topicName string
param subscriptionName string

@description('True to make the subscription session-aware: producers set SessionId to the stream, and each stream keeps its publish order end to end.')
param sessions bool

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: 'sb-${name}'
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    minimumTlsVersion: '1.2'
    // Producers and Bridge use Microsoft Entra ID; no shared access keys.
    disableLocalAuth: true
  }

  resource topic 'topics' = {
    name: topicName
    properties: {
      // Bridge's idempotency does not depend on it, but it spares a round trip for a producer's own retries.
      requiresDuplicateDetection: true
      duplicateDetectionHistoryTimeWindow: 'PT10M'
      defaultMessageTimeToLive: 'P14D'
      maxSizeInMegabytes: 1024
    }

    resource subscription 'subscriptions' = {
      name: subscriptionName
      properties: {
        // Long enough for a batch of 500 to be stored with retries; Bridge renews locks while it works.
        lockDuration: 'PT1M'
        // A message that fails this often (storage down for a long time) goes to the dead-letter queue, not round
        // and round; it can be resubmitted from there.
        maxDeliveryCount: 10
        deadLetteringOnMessageExpiration: true
        deadLetteringOnFilterEvaluationExceptions: true
        requiresSession: sessions
      }
    }
  }
}

output name string = namespace.name
output id string = namespace.id
// The endpoint is https://<name>.servicebus.windows.net:443/ in Azure's public cloud; the host name serves every cloud.
output fullyQualifiedNamespace string = split(split(namespace.properties.serviceBusEndpoint, '//')[1], ':')[0]
output topicId string = namespace::topic.id
