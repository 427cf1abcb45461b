"""Records a city files, made from the minutes: the header fields of each kind (会議録, 面談記録,
交渉記録, 電話対応記録), 整文 (the tidied text), the Word layout, file names and the administrators'
Word templates. See docs/exports.md."""
