// Search box for the customer portal: debounced queries, keyboard navigation.

const DEBOUNCE_MS = 250;

export class SearchWidget {
  constructor(input, resultsList, { endpoint = "/api/search", limit = 8 } = {}) {
    this.input = input;
    this.resultsList = resultsList;
    this.endpoint = endpoint;
    this.limit = limit;
    this.selected = -1;
    this.timer = null;
    input.addEventListener("input", () => this.schedule());
    input.addEventListener("keydown", (event) => this.onKey(event));
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(this.input.value.trim()), DEBOUNCE_MS);
  }

  async search(query) {
    if (query.length < 2) {
      this.render([]);
      return;
    }
    const url = `${this.endpoint}?q=${encodeURIComponent(query)}&limit=${this.limit}`;
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      this.render([]);
      return;
    }
    const { results } = await response.json();
    this.render(results);
  }

  render(results) {
    this.selected = -1;
    this.resultsList.replaceChildren(
      ...results.map((result) => {
        const item = document.createElement("li");
        item.textContent = `${result.sku} - ${result.name}`;
        return item;
      }),
    );
  }

  onKey(event) {
    const count = this.resultsList.children.length;
    if (event.key === "ArrowDown") this.selected = Math.min(this.selected + 1, count - 1);
    if (event.key === "ArrowUp") this.selected = Math.max(this.selected - 1, 0);
    [...this.resultsList.children].forEach((child, index) => {
      child.classList.toggle("selected", index === this.selected);
    });
  }
}
