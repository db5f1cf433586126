using Bridge.Server;

await BridgeServer.Create(args).RunAsync();
