// The payment page of a provider whose card form runs in the hub's page (Stripe Elements):
// Stripe.js mounts the card field, confirms the PaymentIntent with its client secret, and
// handles 3-D Secure itself. On success the buyer goes to the order page, which shows the
// tickets once Stripe's webhook has reached the hub. Every failure is said in plain words,
// with the form left ready to try again (the hold on the tickets still runs).

const form = document.getElementById("pay");
const error = document.getElementById("pay-error");
const button = document.getElementById("pay-submit");
const stripe = window.Stripe ? window.Stripe(form.dataset.key) : null;
let card = null;

if (stripe) {
  card = stripe.elements().create("card");
  card.mount("#card");
} else {
  error.textContent = "The payment service could not be reached. Check your connection and reload this page.";
  button.disabled = true;
}

/** Stripe's error, as a buyer can act on it. */
function sentence(e) {
  const code = e?.code ?? e?.decline_code ?? "";
  if (code === "card_declined" || e?.type === "card_error" && !code.startsWith("incorrect")) {
    return "Your card was declined. Try another card, or ask your bank.";
  }
  if (code === "payment_intent_authentication_failure" || code.includes("authentication")) {
    return "Your bank's check (3-D Secure) did not pass. Try again, or use another card.";
  }
  if (code === "expired_card") return "Your card has expired. Use another card.";
  if (code.startsWith("incorrect") || code.startsWith("invalid")) {
    return e?.message || "Check the card number, expiry date and security code.";
  }
  if (e?.type === "api_connection_error" || e instanceof TypeError) {
    return "We could not reach the payment service. Check your connection and try again.";
  }
  return e?.message || "The payment did not go through. Try again.";
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!stripe) return;
  error.textContent = "";
  button.disabled = true;
  try {
    const result = await stripe.confirmCardPayment(form.dataset.secret, { payment_method: { card } });
    if (result.error) {
      error.textContent = sentence(result.error);
    } else {
      window.location.assign(form.dataset.done);
      return;
    }
  } catch (e) {
    error.textContent = sentence(e);
  }
  button.disabled = false;
});
