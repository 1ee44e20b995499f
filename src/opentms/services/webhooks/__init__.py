"""TMS webhooks (docs/webhooks.md): the subscription and key API's use cases,
the envelope of a delivery, and the dispatcher."""
