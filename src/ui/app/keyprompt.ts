/** The API-key dialog shown when the sidecar answers 401. */
import { setKeyPrompt } from "./api.js";
import { h } from "./dom.js";
import { setKey } from "./keystore.js";

export function installKeyPrompt(): void {
  setKeyPrompt(
    (reason) =>
      new Promise<boolean>((resolve) => {
        const input = h("input", {
          type: "password",
          id: "api-key-input",
          name: "api-key",
          autocomplete: "off",
          spellcheck: "false",
          required: true,
          "aria-describedby": "api-key-reason",
        });
        const remember = h("input", { type: "checkbox", id: "api-key-remember" });
        let settled = false;
        const finish = (ok: boolean) => {
          if (settled) return;
          settled = true;
          dialog.close();
          dialog.remove();
          resolve(ok);
        };
        const form = h(
          "form",
          {
            class: "stack",
            onsubmit: (event) => {
              event.preventDefault();
              const value = input.value.trim();
              if (!value) return;
              setKey(value, remember.checked);
              finish(true);
            },
          },
          h("h2", { id: "api-key-title" }, "API key required"),
          h("p", { id: "api-key-reason", class: "muted" }, reason),
          h("label", { for: "api-key-input" }, "API key"),
          input,
          h(
            "label",
            { class: "check" },
            remember,
            " Remember on this browser (otherwise it is forgotten when this tab closes)",
          ),
          h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "secondary", onclick: () => finish(false) }, "Cancel"),
            h("button", { type: "submit", class: "primary" }, "Use key"),
          ),
        );
        const dialog = h("dialog", { class: "key-dialog", "aria-labelledby": "api-key-title" }, form);
        dialog.addEventListener("cancel", () => finish(false));
        document.body.appendChild(dialog);
        dialog.showModal();
        input.focus();
      }),
  );
}
