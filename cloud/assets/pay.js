// The payment page of a provider whose card form runs in the hub's page (Stripe Elements):
// Stripe.js mounts the card field, confirms the PaymentIntent with its client secret, and
// handles 3-D Secure itself. On success the buyer goes to the order page, which shows the
// tickets once Stripe's webhook has reached the hub. Every failure is said in plain words,
// with the form left ready to try again (the hold on the tickets still runs) — in the page's
// language, whose sentences the page carries (data-declined, data-three-ds, …).

const form = document.getElementById("pay");
const error = document.getElementById("pay-error");
const button = document.getElementById("pay-submit");
const say = form.dataset;
const stripe = window.Stripe ? window.Stripe(form.dataset.key, { locale: form.dataset.lang }) : null;
let card = null;

if (stripe) {
  card = stripe.elements().create("card");
  card.mount("#card");
} else {
  error.textContent = say.noService;
  button.disabled = true;
}

/** Stripe's error, as a buyer can act on it. */
function sentence(e) {
  const code = e?.code ?? e?.decline_code ?? "";
  if (code === "card_declined" || e?.type === "card_error" && !code.startsWith("incorrect")) {
    return say.declined;
  }
  if (code === "payment_intent_authentication_failure" || code.includes("authentication")) {
    return say.threeDs;
  }
  if (code === "expired_card") return say.expired;
  if (code.startsWith("incorrect") || code.startsWith("invalid")) {
    return e?.message || say.checkCard;
  }
  if (e?.type === "api_connection_error" || e instanceof TypeError) {
    return say.noService;
  }
  return e?.message || say.failed;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!stripe) return;
  error.textContent = "";
  button.disabled = true;
  try {
    const result = await stripe.confirmCardPayment(form.dataset.secret, { payment_method: { card } });
    const intent = result.paymentIntent;
    if (result.error) {
      error.textContent = sentence(result.error);
    } else if (["succeeded", "processing", "requires_capture"].includes(intent?.status)) {
      window.location.assign(form.dataset.done);
      return;
    } else {
      // No error, yet not paid: the bank's check was abandoned or failed.
      error.textContent = sentence(intent?.last_payment_error ?? { code: "payment_intent_authentication_failure" });
    }
  } catch (e) {
    error.textContent = sentence(e);
  }
  button.disabled = false;
});
