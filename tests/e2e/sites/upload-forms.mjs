// The institution's upload forms (/docs/upload), as the documents and scan suites use them. The page
// a form posts to shows what arrived and links first to the next form, so that a person without a
// mouse (xdotool, in the scan suite's run without WebDriver) goes on with Tab, Return:
//
//   /docs/upload                        any file (a scan becomes a PDF)     -> ?accept=image
//   /docs/upload?accept=image           pictures only (a scan becomes a JPEG) -> ?max=PHP_MAX_FILE_SIZE
//   /docs/upload?max=N                  PHP's convention: <input type="hidden" name="MAX_FILE_SIZE"
//                                       value="N"> before the file input     -> the framed form below
//   /docs/upload-frame?accept=image&maxattr=N
//                                       the form in a same-origin <iframe>, its input declaring
//                                       data-max-size="N" (pictures only)
//
// The sizes are here so that the scan suite checks the bytes the site receives against them.

/** PHP's MAX_FILE_SIZE of the third form, in bytes. */
export const PHP_MAX_FILE_SIZE = 100000;
/** The data-max-size of the framed form's input, in bytes. */
export const DATA_MAX_SIZE = 90000;

const digits = (v) => (/^\d{1,9}$/.test(v || '') ? v : null);

/** The query a form keeps in its action, and what it declares. */
function formOf(q) {
  const image = q.get('accept') === 'image';
  const max = digits(q.get('max'));
  const attr = digits(q.get('maxattr'));
  const keep = new URLSearchParams();
  if (image) keep.set('accept', 'image');
  if (max) keep.set('max', max);
  if (attr) keep.set('maxattr', attr);
  const query = keep.toString();
  return { image, max, attr, query: query ? `?${query}` : '' };
}

/** The form's page body. */
export function uploadForm(q) {
  const f = formOf(q);
  return `<h1 id="title">Envoyer une pièce justificative</h1>
<form method="post" action="/docs/upload${f.query}" enctype="multipart/form-data">
${f.max ? `<input type="hidden" name="MAX_FILE_SIZE" value="${f.max}">` : ''}
<p><label for="piece">Votre pièce :</label> <input id="piece" name="piece" type="file"${f.image ? ' accept="image/*"' : ''}${f.attr ? ` data-max-size="${f.attr}"` : ''} style="font-size:24px"></p>
<p id="chosen" style="min-height:2em;margin:0"></p>
<p><button id="send" type="submit">Envoyer</button></p></form>
<script>document.getElementById('piece').addEventListener('change', function (e) {
  document.getElementById('chosen').textContent = Array.from(e.target.files).map(function (f) { return f.name + ' ' + f.size; }).join(',');
});</script>`;
}

/** Where the page a form posted to links first. */
function nextForm(q) {
  const f = formOf(q);
  if (f.attr) return '/docs/';
  if (f.max) return `/docs/upload-frame?accept=image&maxattr=${DATA_MAX_SIZE}`;
  if (f.image) return `/docs/upload?max=${PHP_MAX_FILE_SIZE}`;
  return '/docs/upload?accept=image';
}

/** The page a form posted to: what arrived (escaped by `esc`), then the link to the next form. */
export function received(q, got) {
  return `<h1 id="title">Pièce reçue</h1><p id="received">${got}</p>
<p><a id="again-image" href="${nextForm(q)}">Envoyer une autre pièce</a></p>`;
}

/** The framed form's page: the form of `/docs/upload` with the same query, in a same-origin iframe. */
export function uploadFrame(q) {
  return `<h1 id="title">Envoyer une pièce (cadre)</h1>
<iframe id="frame" title="Formulaire d'envoi" src="/docs/upload${formOf(q).query}" style="border:0;width:100%;height:420px"></iframe>`;
}
