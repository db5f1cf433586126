// Sends two messages with the JavaScript Service Bus SDK (rhea underneath: SASL ANONYMOUS, then CBS put-token),
// receives them with peek-lock, completes them, and prints what it got as JSON.
// usage: node round-trip.mjs <connection string> <topic> <subscription>
import { ServiceBusClient } from "@azure/service-bus";

const [connectionString, topic, subscription] = process.argv.slice(2);
const client = new ServiceBusClient(connectionString, { retryOptions: { maxRetries: 0, timeoutInMs: 10000 } });
try {
  const sender = client.createSender(topic);
  await sender.sendMessages({ body: "from javascript", subject: "js.single", messageId: "js-1" });
  const batch = await sender.createMessageBatch();
  batch.tryAddMessage({ body: "batched", subject: "js.batch", messageId: "js-2" });
  await sender.sendMessages(batch);

  const receiver = client.createReceiver(topic, subscription);
  const received = [];
  while (received.length < 2) {
    const messages = await receiver.receiveMessages(2 - received.length, { maxWaitTimeInMs: 5000 });
    if (messages.length === 0) break;
    for (const message of messages) {
      await receiver.completeMessage(message);
      received.push({ body: message.body, subject: message.subject, messageId: message.messageId, deliveryCount: message.deliveryCount, sequenceNumber: Number(message.sequenceNumber) });
    }
  }
  console.log(JSON.stringify(received));
} finally {
  await client.close();
}
