/**
 * @file banter.h  libbanter: a real-time voice agent engine.
 */
#ifndef BANTER_H
#define BANTER_H

#include "err.h"
#include "audio.h"
#include "vad.h"
#include "stt.h"
#include "tts.h"
#include "brain.h"
#include "agent.h"
#include "session.h"

#endif
