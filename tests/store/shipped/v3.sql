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
    thinking      TEXT NOT NULL DEFAULT 'default'
);
INSERT INTO "chats" VALUES(1,'Tea “notes” — ünïcode','You are terse.
Two lines.','/models/tiny.gguf','{"temperature": 0.3, "seed": 7}','stop',1.79664785440847873682e+09,1.79664785440974259381e+09,'off');
INSERT INTO "chats" VALUES(2,'Second chat','','','{}','truncate_middle',1.79664785440989732741e+09,1.79664785441051030163e+09,'default');
INSERT INTO "chats" VALUES(3,'Empty chat','','','{}','truncate_middle',1.79664785441057205201e+09,1.79664785441057205201e+09,'default');
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
INSERT INTO "messages" VALUES(1,1,0,'user','How long to steep green tea?','','{}','{}',1,'',1.79664785440879893304e+09,'',NULL,1);
INSERT INTO "messages" VALUES(2,1,1,'assistant','Two to three minutes at 80 °C.','Tiny 1B','{"temperature": 0.3}','{"completion_tokens": 12, "decode_tok_s": 40.5, "stop_reason": "stop"}',1,'',1.79664785440917396542e+09,'Green tea: lower temperature, short time.',1,1);
INSERT INTO "messages" VALUES(3,1,2,'user','And black tea? ''quotes'' and "doubles"','','{}','{}',1,'',1.7966478544096167087e+09,'',2,1);
INSERT INTO "messages" VALUES(4,1,3,'assistant','Four minutes, boiling.','Tiny 1B','{}','{}',0,'Stopped: cancelled',1.79664785440974259381e+09,'',3,1);
INSERT INTO "messages" VALUES(5,2,0,'system','A system line kept as a message','','{}','{}',1,'',1.79664785440998911857e+09,'',NULL,1);
INSERT INTO "messages" VALUES(6,2,1,'user','searchable needle here','','{}','{}',1,'',1.796647854410071373e+09,'',5,1);
INSERT INTO "messages" VALUES(7,2,2,'assistant','first answer','M','{}','{}',1,'',1.79664785441015362743e+09,'',6,1);
INSERT INTO "messages" VALUES(8,2,2,'assistant','second answer','M','{}','{}',1,'',1.79664785441024518015e+09,'',6,0);
INSERT INTO "messages" VALUES(9,2,3,'user','follow-up on the second','','{}','{}',1,'',1.79664785441029334063e+09,'',8,1);
INSERT INTO "messages" VALUES(10,2,1,'user','an edited question','','{}','{}',1,'',1.79664785441046071052e+09,'',5,0);
INSERT INTO "messages" VALUES(11,2,2,'assistant','answer to the edit','','{}','{}',1,'',1.79664785441051030163e+09,'',10,1);
CREATE INDEX messages_by_chat ON messages(chat_id, position);
COMMIT;
