// The pages that print (impact assessments, the strategic review, trigger events)
// have a Print button: it opens the browser's print dialogue.
document.querySelectorAll('[data-print]').forEach((b) => b.addEventListener('click', () => window.print()));
