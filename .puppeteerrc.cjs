// whatsapp-web.js drives Debian's /usr/bin/chromium (WHATSAPP_CHROMIUM_PATH); never download a browser.
module.exports = { skipDownload: true };
