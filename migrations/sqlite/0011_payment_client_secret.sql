-- Issue 20: a provider whose card form runs in the hub's own payment page (Stripe Elements)
-- confirms the payment there with a client secret the provider gave at creation (a
-- PaymentIntent's). Kept with the payment so the page can be opened again while the hold
-- lasts; it authorises confirming this one payment and nothing else.
ALTER TABLE payments ADD COLUMN client_secret TEXT;
