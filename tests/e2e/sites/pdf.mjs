// Tiny PDFs written object by object, with the cross-reference table computed from the real byte offsets
// (pdfinfo and pdftotext read them without a warning). No dependency.

/**
 * One A4 page with a line of text; with `linkUri`, a Link annotation with a URI action that covers
 * the whole page (so a click anywhere on the page, even at a guessed screen position, hits it).
 */
export function buildPdf({ title = 'Attestation de test', text = 'Attestation de test', linkUri = null } = {}) {
  const W = 595;
  const H = 842;
  const esc = (s) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const lines = [`BT /F1 28 Tf 72 ${H - 120} Td (${esc(text)}) Tj ET`];
  if (linkUri) {
    // A visible blue frame and caption, so a screenshot shows where the link is.
    lines.push('0 0 1 RG 4 w 20 20 555 802 re S');
    lines.push(`BT /F1 16 Tf 72 ${H - 170} Td (${esc(`Lien : ${linkUri}`)}) Tj ET`);
  }
  const content = lines.join('\n');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${W} ${H}] /Resources << /Font << /F1 5 0 R >> >> ` +
      `/Contents 4 0 R${linkUri ? ' /Annots [6 0 R]' : ''} >>`,
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  if (linkUri) {
    objects.push(
      `<< /Type /Annot /Subtype /Link /Rect [0 0 ${W} ${H}] /Border [0 0 0] ` +
        `/A << /Type /Action /S /URI /URI (${esc(linkUri)}) >> >>`,
    );
  }
  objects.push(`<< /Title (${esc(title)}) /Producer (borne e2e) >>`);
  const infoNum = objects.length;

  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n`;
  out += '0000000000 65535 f \n';
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${infoNum} 0 R >>\n`;
  out += `startxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/**
 * `pages` A4 pages, one line of text each (« <text> page N »), whose page tree's `/Count` claims
 * `claimed`: a PDF that lies about its length, as a hostile site would serve to print more than it
 * is charged. The tree itself is sound, so viewers and CUPS's filters print every page.
 */
export function buildLyingPdf({ pages = 3, claimed = 1, text = 'Page de test' } = {}) {
  const esc = (s) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  // 1 catalog, 2 page tree, 3 font, then a page and its content for each page.
  const kids = Array.from({ length: pages }, (_, i) => `${4 + 2 * i} 0 R`).join(' ');
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    `<< /Type /Pages /Kids [${kids}] /Count ${claimed} >>`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
  ];
  for (let i = 0; i < pages; i += 1) {
    const content = `BT /F1 28 Tf 72 722 Td (${esc(`${text} page ${i + 1}`)}) Tj ET`;
    objects.push(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${5 + 2 * i} 0 R >>`);
    objects.push(`<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`);
  }
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets = [];
  objects.forEach((body, i) => {
    offsets.push(Buffer.byteLength(out, 'latin1'));
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefAt = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const off of offsets) out += `${String(off).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefAt}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // node pdf.mjs [linkUri] > file.pdf   (for checking with pdfinfo / pdftotext)
  process.stdout.write(buildPdf({ linkUri: process.argv[2] || null }));
}
