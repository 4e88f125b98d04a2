/**
 * Formatting helpers shared by the portal pages.
 */

const money = new Intl.NumberFormat("nl-NL", { style: "currency", currency: "EUR" });

/** Format a price given in cents, e.g. 123456 -> "€ 1.234,56". */
function formatPrice(cents) {
  return money.format(cents / 100);
}

/** Human-friendly delivery estimate in days. */
function deliveryText(days) {
  if (days <= 0) return "today";
  if (days === 1) return "tomorrow";
  return `in ${days} days`;
}

module.exports = { formatPrice, deliveryText };
