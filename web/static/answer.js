// Streams the checked answer into the search page. Without this script the server renders the whole
// checked answer itself; with it, the page comes back at once and sentences appear as they pass the check.
(function () {
  "use strict";
  var toggle = document.querySelector("form.ask input[name=answer]");
  if (!toggle || !window.EventSource) return;
  var wantStream = document.createElement("input");
  wantStream.type = "hidden";
  wantStream.name = "stream";
  wantStream.value = "true";
  toggle.form.appendChild(wantStream);

  var section = document.querySelector("section.answer[data-stream]");
  if (!section) return;
  var text = section.querySelector(".answer-text");
  var status = section.querySelector(".answer-status");
  var finished = false;
  var source = new EventSource(section.getAttribute("data-stream"));

  function citationLink(c) {
    var a = document.createElement("a");
    a.className = "cite";
    a.href = "/articles/" + c.article_id + "?hl=" + c.start + "-" + c.end + "#s" + c.start;
    a.title = "Source " + c.n;
    a.textContent = "[" + c.n + "]";
    return a;
  }

  source.addEventListener("sentence", function (event) {
    var sentence = JSON.parse(event.data);
    if (!sentence.checked) return;
    var span = document.createElement("span");
    span.textContent = sentence.text;
    text.appendChild(span);
    sentence.citations.forEach(function (c) { text.appendChild(citationLink(c)); });
    text.appendChild(document.createTextNode(" "));
  });

  source.addEventListener("done", function (event) {
    finished = true;
    source.close();
    var answer = JSON.parse(event.data);
    if (answer.fallback) {
      text.textContent = "";
      status.textContent = "No answer: " + answer.fallback + ".";
    } else if (answer.dropped) {
      status.textContent = answer.dropped + " of " + answer.total +
        " sentences were left out: the evidence they cite does not support them.";
    } else {
      status.textContent = "Every sentence passed the check.";
    }
  });

  source.addEventListener("error", function () {
    source.close();
    if (!finished) {
      text.textContent = "";
      status.textContent = "No answer: the answer could not be streamed; the extractive brief below stands.";
    }
  });
})();
