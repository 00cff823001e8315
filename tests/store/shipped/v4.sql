BEGIN TRANSACTION;
CREATE TABLE chats (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    model_path    TEXT NOT NULL DEFAULT '',
    sampling      TEXT NOT NULL DEFAULT '{}',
    overflow      TEXT NOT NULL DEFAULT 'truncate_middle',
    created       REAL NOT NULL,
    updated       REAL NOT NULL,
    thinking      TEXT NOT NULL DEFAULT 'default',
    comparison_id INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "chats" VALUES(1,'Tea “notes” — ünïcode','You are terse.
Two lines.','/models/tiny.gguf','{"temperature": 0.3, "seed": 7}','stop',1.7966478544766027927e+09,1.79664785447768783569e+09,'off',0);
INSERT INTO "chats" VALUES(2,'Second chat','','','{}','truncate_middle',1.7966478544778423309e+09,1.79664785447856640817e+09,'default',0);
INSERT INTO "chats" VALUES(3,'Empty chat','','','{}','truncate_middle',1.79664785447866392131e+09,1.79664785447866392131e+09,'default',0);
INSERT INTO "chats" VALUES(4,'Tea models · column 1','','/models/a.gguf','{"temperature": 0.5}','truncate_middle',1.79664785448221373562e+09,1.79664785448247170448e+09,'default',1);
INSERT INTO "chats" VALUES(5,'Tea models · column 2','','/models/b.gguf','{"temperature": 0.5}','truncate_middle',1.79664785448270130155e+09,1.79664785448295760152e+09,'default',1);
CREATE TABLE comparisons (
    id       INTEGER PRIMARY KEY,
    title    TEXT NOT NULL,
    columns  TEXT NOT NULL DEFAULT '[]',
    run_mode TEXT NOT NULL DEFAULT 'auto',
    created  REAL NOT NULL,
    updated  REAL NOT NULL
);
INSERT INTO "comparisons" VALUES(1,'Tea models','[{"chat_id": 4, "model_path": "/models/a.gguf", "load": {"n_ctx": 4096}, "sampling": {"temperature": 0.5}}, {"chat_id": 5, "model_path": "/models/b.gguf", "load": {"n_ctx": 4096}, "sampling": {"temperature": 0.5}}]','together',1.79664785448195338246e+09,1.79664785448279142382e+09);
INSERT INTO "comparisons" VALUES(2,'Empty comparison','[]','auto',1.79664785448311400406e+09,1.79664785448311400406e+09);
CREATE TABLE messages (
    id        INTEGER PRIMARY KEY,
    chat_id   INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    role      TEXT NOT NULL,
    content   TEXT NOT NULL,
    model     TEXT NOT NULL DEFAULT '',
    sampling  TEXT NOT NULL DEFAULT '{}',
    stats     TEXT NOT NULL DEFAULT '{}',
    complete  INTEGER NOT NULL DEFAULT 1,
    error     TEXT NOT NULL DEFAULT '',
    created   REAL NOT NULL,
    reasoning TEXT NOT NULL DEFAULT '',
    parent_id INTEGER,
    chosen    INTEGER NOT NULL DEFAULT 1
);
INSERT INTO "messages" VALUES(1,1,0,'user','How long to steep green tea?','','{}','{}',1,'',1.79664785447687125208e+09,'',NULL,1);
INSERT INTO "messages" VALUES(2,1,1,'assistant','Two to three minutes at 80 °C.','Tiny 1B','{"temperature": 0.3}','{"completion_tokens": 12, "decode_tok_s": 40.5, "stop_reason": "stop"}',1,'',1.79664785447721576687e+09,'Green tea: lower temperature, short time.',1,1);
INSERT INTO "messages" VALUES(3,1,2,'user','And black tea? ''quotes'' and "doubles"','','{}','{}',1,'',1.79664785447757554054e+09,'',2,1);
INSERT INTO "messages" VALUES(4,1,3,'assistant','Four minutes, boiling.','Tiny 1B','{}','{}',0,'Stopped: cancelled',1.79664785447768783569e+09,'',3,1);
INSERT INTO "messages" VALUES(5,2,0,'system','A system line kept as a message','','{}','{}',1,'',1.79664785447788119317e+09,'',NULL,1);
INSERT INTO "messages" VALUES(6,2,1,'user','searchable needle here','','{}','{}',1,'',1.79664785447793388366e+09,'',5,1);
INSERT INTO "messages" VALUES(7,2,2,'assistant','first answer','M','{}','{}',1,'',1.79664785447805213933e+09,'',6,1);
INSERT INTO "messages" VALUES(8,2,2,'assistant','second answer','M','{}','{}',1,'',1.79664785447816538815e+09,'',6,0);
INSERT INTO "messages" VALUES(9,2,3,'user','follow-up on the second','','{}','{}',1,'',1.79664785447821497921e+09,'',8,1);
INSERT INTO "messages" VALUES(10,2,1,'user','an edited question','','{}','{}',1,'',1.79664785447848796839e+09,'',5,0);
INSERT INTO "messages" VALUES(11,2,2,'assistant','answer to the edit','','{}','{}',1,'',1.79664785447856640817e+09,'',10,1);
INSERT INTO "messages" VALUES(12,4,0,'user','Same prompt','','{}','{}',1,'',1.79664785448233771327e+09,'',NULL,1);
INSERT INTO "messages" VALUES(13,4,1,'assistant','reply from /models/a.gguf','a','{}','{"completion_tokens": 3, "n_ctx": 4096}',1,'',1.79664785448247170448e+09,'',12,1);
INSERT INTO "messages" VALUES(14,5,0,'user','Same prompt','','{}','{}',1,'',1.79664785448283076288e+09,'',NULL,1);
INSERT INTO "messages" VALUES(15,5,1,'assistant','reply from /models/b.gguf','b','{}','{"completion_tokens": 3, "n_ctx": 4096}',1,'',1.79664785448295760152e+09,'',14,1);
CREATE INDEX messages_by_chat ON messages(chat_id, position);
COMMIT;
