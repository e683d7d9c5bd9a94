// The live view (Console/ConsoleLive.cs): an element with data-live names the event stream of the bindings shown;
// each "binding" event carries one binding's fields, written into the cells marked data-field inside every element
// marked data-binding-key with its key. "gone": the binding was unbound. No other script runs on the console.
'use strict';
(function () {
  const live = document.querySelector('[data-live]');
  if (!live || !window.EventSource) return;
  const rowsOf = (key) => document.querySelectorAll('[data-binding-key="' + key + '"]');
  const source = new EventSource(live.dataset.live);
  source.addEventListener('binding', (event) => {
    const binding = JSON.parse(event.data);
    for (const row of rowsOf(binding.key)) {
      row.dataset.status = binding.status;
      for (const cell of row.querySelectorAll('[data-field]')) {
        const value = binding[cell.dataset.field];
        if (value !== undefined) cell.textContent = String(value);
      }
    }
  });
  source.addEventListener('gone', (event) => {
    for (const row of rowsOf(event.data)) {
      row.dataset.status = 'gone';
      for (const cell of row.querySelectorAll('[data-field="status_text"]')) cell.textContent = 'unbound';
    }
  });
})();
