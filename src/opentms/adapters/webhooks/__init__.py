"""The transport of TMS webhooks: HTTP requests to merchants' receivers."""
