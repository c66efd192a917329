DROP TABLE template_current_attachments;
DROP TABLE template_attachments;
