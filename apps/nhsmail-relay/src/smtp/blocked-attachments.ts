/**
 * Attachment types NHSmail refuses: executables, scripts and macro-enabled Office files (by name and by
 * declared type: a renamed executable still declares itself, and a script with a harmless type keeps its name).
 */
const BLOCKED_EXTENSIONS = new Set([
  // executables and installers
  'exe',
  'com',
  'scr',
  'pif',
  'msi',
  'msp',
  'mst',
  'dll',
  'cpl',
  'sys',
  'drv',
  'ocx',
  'jar',
  'app',
  'apk',
  'appx',
  'msix',
  'gadget',
  'lnk',
  'inf',
  'reg',
  'hta',
  'chm',
  'iso',
  'img',
  'vhd',
  'vhdx',
  // scripts
  'bat',
  'cmd',
  'vbs',
  'vbe',
  'js',
  'jse',
  'wsf',
  'wsh',
  'wsc',
  'ps1',
  'ps1xml',
  'ps2',
  'psc1',
  'psm1',
  'msh',
  'sct',
  'sh',
  'ksh',
  'csh',
  // macro-enabled Office files
  'docm',
  'dotm',
  'xlsm',
  'xltm',
  'xlam',
  'xlsb',
  'pptm',
  'potm',
  'ppam',
  'ppsm',
  'sldm',
]);

const BLOCKED_TYPES = new Set([
  'application/x-msdownload',
  'application/x-msdos-program',
  'application/x-ms-installer',
  'application/x-msi',
  'application/x-dosexec',
  'application/x-executable',
  'application/vnd.microsoft.portable-executable',
  'application/java-archive',
  'application/x-sh',
  'application/x-bat',
  'application/hta',
  'application/x-javascript',
  'text/javascript',
  'text/vbscript',
  'application/vnd.ms-word.document.macroenabled.12',
  'application/vnd.ms-word.template.macroenabled.12',
  'application/vnd.ms-excel.sheet.macroenabled.12',
  'application/vnd.ms-excel.template.macroenabled.12',
  'application/vnd.ms-excel.addin.macroenabled.12',
  'application/vnd.ms-excel.sheet.binary.macroenabled.12',
  'application/vnd.ms-powerpoint.presentation.macroenabled.12',
  'application/vnd.ms-powerpoint.template.macroenabled.12',
  'application/vnd.ms-powerpoint.addin.macroenabled.12',
  'application/vnd.ms-powerpoint.slideshow.macroenabled.12',
]);

/** Why an attachment is refused (to tell the sender), or undefined when it may pass. */
export function blockedAttachment(filename: string | undefined, contentType: string | undefined): string | undefined {
  const name = (filename ?? '')
    .trim()
    .toLowerCase()
    .replace(/[.\s]+$/, '');
  const extension = name.includes('.') ? name.slice(name.lastIndexOf('.') + 1) : '';
  const type = (contentType ?? '').toLowerCase().split(';')[0]?.trim() ?? '';
  const shown = filename ? `'${filename.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)}'` : 'an attachment';
  if (BLOCKED_EXTENSIONS.has(extension)) {
    return `${shown} is a blocked attachment type (.${extension}: executables, scripts and macro-enabled Office files are not accepted)`;
  }
  if (BLOCKED_TYPES.has(type)) {
    return `${shown} is a blocked attachment type (${type}: executables, scripts and macro-enabled Office files are not accepted)`;
  }
  return undefined;
}
