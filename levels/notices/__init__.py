"""Written notices (通知书) people can hold: each step the seeds say produces a notice
produces one — a row with its content, signed by the issuing org's licence key, that
renders as a PDF with a QR code verifying it online and offline."""
