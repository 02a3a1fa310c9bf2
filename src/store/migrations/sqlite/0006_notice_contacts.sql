-- お問い合わせ先 printed on the notices (DESIGN §3, §8): whoever manages an account is whom its notice
-- sends the person to, so the text can be set per institution (for its 責任者 and 医療クラーク等) and per
-- municipality (for the 指定医 of its institutions). NULL: the installation's default.
ALTER TABLE institutions ADD COLUMN notice_contact TEXT;
ALTER TABLE municipalities ADD COLUMN notice_contact TEXT;
