/*eslint-disable block-scoped-var, id-length, no-control-regex, no-magic-numbers, no-mixed-operators, no-prototype-builtins, no-redeclare, no-shadow, no-var, sort-vars, default-case, jsdoc/require-param*/
import $protobuf from "protobufjs/minimal.js";

// Common aliases
const $Reader = $protobuf.Reader, $Writer = $protobuf.Writer, $util = $protobuf.util;
const $Object = $util.global.Object, $undefined = $util.global.undefined, $Error = $util.global.Error, $RangeError = $util.global.RangeError;

// Exported root namespace
const $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});

export const mrt = $root.mrt = (() => {

    /**
     * Namespace mrt.
     * @exports mrt
     * @namespace
     */
    const mrt = {};

    /**
     * Order enum.
     * @name mrt.Order
     * @enum {number}
     * @property {number} LAYER_MAJOR=0 LAYER_MAJOR value
     * @property {number} COARSE_FIRST=1 COARSE_FIRST value
     */
    mrt.Order = (function() {
        const valuesById = $Object.create(null), values = $Object.create(valuesById);
        values[valuesById[0] = "LAYER_MAJOR"] = 0;
        values[valuesById[1] = "COARSE_FIRST"] = 1;
        return values;
    })();

    /**
     * PriorKind enum.
     * @name mrt.PriorKind
     * @enum {number}
     * @property {number} STATIC=0 STATIC value
     * @property {number} RCM=1 RCM value
     * @property {number} RCM_SHARED_LATE=2 RCM_SHARED_LATE value
     * @property {number} RCM_LATE_CONTEXTS=3 RCM_LATE_CONTEXTS value
     * @property {number} RCM_COARSE=4 RCM_COARSE value
     */
    mrt.PriorKind = (function() {
        const valuesById = $Object.create(null), values = $Object.create(valuesById);
        values[valuesById[0] = "STATIC"] = 0;
        values[valuesById[1] = "RCM"] = 1;
        values[valuesById[2] = "RCM_SHARED_LATE"] = 2;
        values[valuesById[3] = "RCM_LATE_CONTEXTS"] = 3;
        values[valuesById[4] = "RCM_COARSE"] = 4;
        return values;
    })();

    mrt.Layout = (function() {

        /**
         * Properties of a Layout.
         * @typedef {Object} mrt.Layout.$Properties
         * @property {number|null} [gridW] Layout gridW
         * @property {number|null} [gridH] Layout gridH
         * @property {number|null} [tokens] Layout tokens
         * @property {number|null} [levels] Layout levels
         * @property {number|null} [baseFactor] Layout baseFactor
         * @property {mrt.Order|null} [order] Layout order
         * @property {number|null} [coarseLayers] Layout coarseLayers
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Layout.
         * @memberof mrt
         * @interface ILayout
         * @augments mrt.Layout.$Properties
         * @deprecated Use mrt.Layout.$Properties instead.
         */

        /**
         * Shape of a Layout.
         * @typedef {mrt.Layout.$Properties} mrt.Layout.$Shape
         */

        /**
         * Constructs a new Layout.
         * @memberof mrt
         * @classdesc Represents a Layout.
         * @constructor
         * @param {mrt.Layout.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Layout = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Layout gridW.
         * @member {number} gridW
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.gridW = 0;

        /**
         * Layout gridH.
         * @member {number} gridH
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.gridH = 0;

        /**
         * Layout tokens.
         * @member {number} tokens
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.tokens = 0;

        /**
         * Layout levels.
         * @member {number} levels
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.levels = 0;

        /**
         * Layout baseFactor.
         * @member {number} baseFactor
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.baseFactor = 0;

        /**
         * Layout order.
         * @member {mrt.Order} order
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.order = 0;

        /**
         * Layout coarseLayers.
         * @member {number} coarseLayers
         * @memberof mrt.Layout
         * @instance
         */
        Layout.prototype.coarseLayers = 0;

        /**
         * Encodes the specified Layout message. Does not implicitly {@link mrt.Layout.verify|verify} messages.
         * @function encode
         * @memberof mrt.Layout
         * @static
         * @param {mrt.Layout.$Properties} message Layout message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Layout.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.gridW != null && $Object.hasOwnProperty.call(message, "gridW") && message.gridW !== 0)
                writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.gridW);
            if (message.gridH != null && $Object.hasOwnProperty.call(message, "gridH") && message.gridH !== 0)
                writer.uint32(/* id 3, wireType 0 =*/24).uint32(message.gridH);
            if (message.tokens != null && $Object.hasOwnProperty.call(message, "tokens") && message.tokens !== 0)
                writer.uint32(/* id 4, wireType 0 =*/32).uint32(message.tokens);
            if (message.levels != null && $Object.hasOwnProperty.call(message, "levels") && message.levels !== 0)
                writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.levels);
            if (message.baseFactor != null && $Object.hasOwnProperty.call(message, "baseFactor") && message.baseFactor !== 0)
                writer.uint32(/* id 6, wireType 0 =*/48).uint32(message.baseFactor);
            if (message.order != null && $Object.hasOwnProperty.call(message, "order") && message.order !== 0)
                writer.uint32(/* id 7, wireType 0 =*/56).int32(message.order);
            if (message.coarseLayers != null && $Object.hasOwnProperty.call(message, "coarseLayers") && message.coarseLayers !== 0)
                writer.uint32(/* id 8, wireType 0 =*/64).uint32(message.coarseLayers);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Layout message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.Layout
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.Layout & mrt.Layout.$Shape} Layout
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Layout.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.Layout();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 2: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.gridW = value;
                        else
                            delete message.gridW;
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.gridH = value;
                        else
                            delete message.gridH;
                        continue;
                    }
                case 4: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.tokens = value;
                        else
                            delete message.tokens;
                        continue;
                    }
                case 5: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.levels = value;
                        else
                            delete message.levels;
                        continue;
                    }
                case 6: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.baseFactor = value;
                        else
                            delete message.baseFactor;
                        continue;
                    }
                case 7: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.int32())
                            message.order = value;
                        else
                            delete message.order;
                        continue;
                    }
                case 8: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.coarseLayers = value;
                        else
                            delete message.coarseLayers;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return Layout;
    })();

    mrt.Placeholder = (function() {

        /**
         * Properties of a Placeholder.
         * @typedef {Object} mrt.Placeholder.$Properties
         * @property {string|null} [mime] Placeholder mime
         * @property {number|null} [width] Placeholder width
         * @property {number|null} [height] Placeholder height
         * @property {Uint8Array|null} [data] Placeholder data
         * @property {number|null} [codec] Placeholder codec
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Placeholder.
         * @memberof mrt
         * @interface IPlaceholder
         * @augments mrt.Placeholder.$Properties
         * @deprecated Use mrt.Placeholder.$Properties instead.
         */

        /**
         * Shape of a Placeholder.
         * @typedef {mrt.Placeholder.$Properties} mrt.Placeholder.$Shape
         */

        /**
         * Constructs a new Placeholder.
         * @memberof mrt
         * @classdesc Represents a Placeholder.
         * @constructor
         * @param {mrt.Placeholder.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Placeholder = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Placeholder mime.
         * @member {string} mime
         * @memberof mrt.Placeholder
         * @instance
         */
        Placeholder.prototype.mime = "";

        /**
         * Placeholder width.
         * @member {number} width
         * @memberof mrt.Placeholder
         * @instance
         */
        Placeholder.prototype.width = 0;

        /**
         * Placeholder height.
         * @member {number} height
         * @memberof mrt.Placeholder
         * @instance
         */
        Placeholder.prototype.height = 0;

        /**
         * Placeholder data.
         * @member {Uint8Array} data
         * @memberof mrt.Placeholder
         * @instance
         */
        Placeholder.prototype.data = $util.newBuffer([]);

        /**
         * Placeholder codec.
         * @member {number} codec
         * @memberof mrt.Placeholder
         * @instance
         */
        Placeholder.prototype.codec = 0;

        /**
         * Encodes the specified Placeholder message. Does not implicitly {@link mrt.Placeholder.verify|verify} messages.
         * @function encode
         * @memberof mrt.Placeholder
         * @static
         * @param {mrt.Placeholder.$Properties} message Placeholder message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Placeholder.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.mime != null && $Object.hasOwnProperty.call(message, "mime") && message.mime !== "")
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.mime);
            if (message.width != null && $Object.hasOwnProperty.call(message, "width") && message.width !== 0)
                writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.width);
            if (message.height != null && $Object.hasOwnProperty.call(message, "height") && message.height !== 0)
                writer.uint32(/* id 3, wireType 0 =*/24).uint32(message.height);
            if (message.data != null && $Object.hasOwnProperty.call(message, "data") && message.data.length)
                writer.uint32(/* id 4, wireType 2 =*/34).bytes(message.data);
            if (message.codec != null && $Object.hasOwnProperty.call(message, "codec") && message.codec !== 0)
                writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.codec);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Placeholder message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.Placeholder
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.Placeholder & mrt.Placeholder.$Shape} Placeholder
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Placeholder.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.Placeholder();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.mime = value;
                        else
                            delete message.mime;
                        continue;
                    }
                case 2: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.width = value;
                        else
                            delete message.width;
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.height = value;
                        else
                            delete message.height;
                        continue;
                    }
                case 4: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.bytes()).length)
                            message.data = value;
                        else
                            delete message.data;
                        continue;
                    }
                case 5: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.codec = value;
                        else
                            delete message.codec;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return Placeholder;
    })();

    mrt.FinalInfo = (function() {

        /**
         * Properties of a FinalInfo.
         * @typedef {Object} mrt.FinalInfo.$Properties
         * @property {string|null} [mime] FinalInfo mime
         * @property {number|null} [byteLength] FinalInfo byteLength
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a FinalInfo.
         * @memberof mrt
         * @interface IFinalInfo
         * @augments mrt.FinalInfo.$Properties
         * @deprecated Use mrt.FinalInfo.$Properties instead.
         */

        /**
         * Shape of a FinalInfo.
         * @typedef {mrt.FinalInfo.$Properties} mrt.FinalInfo.$Shape
         */

        /**
         * Constructs a new FinalInfo.
         * @memberof mrt
         * @classdesc Represents a FinalInfo.
         * @constructor
         * @param {mrt.FinalInfo.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const FinalInfo = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * FinalInfo mime.
         * @member {string} mime
         * @memberof mrt.FinalInfo
         * @instance
         */
        FinalInfo.prototype.mime = "";

        /**
         * FinalInfo byteLength.
         * @member {number} byteLength
         * @memberof mrt.FinalInfo
         * @instance
         */
        FinalInfo.prototype.byteLength = 0;

        /**
         * Encodes the specified FinalInfo message. Does not implicitly {@link mrt.FinalInfo.verify|verify} messages.
         * @function encode
         * @memberof mrt.FinalInfo
         * @static
         * @param {mrt.FinalInfo.$Properties} message FinalInfo message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        FinalInfo.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.mime != null && $Object.hasOwnProperty.call(message, "mime") && message.mime !== "")
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.mime);
            if (message.byteLength != null && $Object.hasOwnProperty.call(message, "byteLength") && message.byteLength !== 0)
                writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.byteLength);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a FinalInfo message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.FinalInfo
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.FinalInfo & mrt.FinalInfo.$Shape} FinalInfo
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        FinalInfo.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.FinalInfo();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.mime = value;
                        else
                            delete message.mime;
                        continue;
                    }
                case 2: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.byteLength = value;
                        else
                            delete message.byteLength;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return FinalInfo;
    })();

    mrt.Header = (function() {

        /**
         * Properties of a Header.
         * @typedef {Object} mrt.Header.$Properties
         * @property {number|null} [width] Header width
         * @property {number|null} [height] Header height
         * @property {number|null} [window] Header window
         * @property {mrt.Placeholder.$Properties|null} [placeholder] Header placeholder
         * @property {number|null} [imageWidth] Header imageWidth
         * @property {number|null} [imageHeight] Header imageHeight
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Header.
         * @memberof mrt
         * @interface IHeader
         * @augments mrt.Header.$Properties
         * @deprecated Use mrt.Header.$Properties instead.
         */

        /**
         * Shape of a Header.
         * @typedef {mrt.Header.$Properties} mrt.Header.$Shape
         */

        /**
         * Constructs a new Header.
         * @memberof mrt
         * @classdesc Represents a Header.
         * @constructor
         * @param {mrt.Header.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Header = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Header width.
         * @member {number} width
         * @memberof mrt.Header
         * @instance
         */
        Header.prototype.width = 0;

        /**
         * Header height.
         * @member {number} height
         * @memberof mrt.Header
         * @instance
         */
        Header.prototype.height = 0;

        /**
         * Header window.
         * @member {number} window
         * @memberof mrt.Header
         * @instance
         */
        Header.prototype.window = 0;

        /**
         * Header placeholder.
         * @member {mrt.Placeholder.$Properties|null|undefined} placeholder
         * @memberof mrt.Header
         * @instance
         */
        Header.prototype.placeholder = null;

        /**
         * Header imageWidth.
         * @member {number} imageWidth
         * @memberof mrt.Header
         * @instance
         */
        Header.prototype.imageWidth = 0;

        /**
         * Header imageHeight.
         * @member {number} imageHeight
         * @memberof mrt.Header
         * @instance
         */
        Header.prototype.imageHeight = 0;

        /**
         * Encodes the specified Header message. Does not implicitly {@link mrt.Header.verify|verify} messages.
         * @function encode
         * @memberof mrt.Header
         * @static
         * @param {mrt.Header.$Properties} message Header message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Header.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.width != null && $Object.hasOwnProperty.call(message, "width") && message.width !== 0)
                writer.uint32(/* id 1, wireType 0 =*/8).uint32(message.width);
            if (message.height != null && $Object.hasOwnProperty.call(message, "height") && message.height !== 0)
                writer.uint32(/* id 2, wireType 0 =*/16).uint32(message.height);
            if (message.window != null && $Object.hasOwnProperty.call(message, "window") && message.window !== 0)
                writer.uint32(/* id 3, wireType 0 =*/24).uint32(message.window);
            if (message.placeholder != null && $Object.hasOwnProperty.call(message, "placeholder"))
                $root.mrt.Placeholder.encode(message.placeholder, writer.uint32(/* id 4, wireType 2 =*/34).fork(), _depth + 1).ldelim();
            if (message.imageWidth != null && $Object.hasOwnProperty.call(message, "imageWidth") && message.imageWidth !== 0)
                writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.imageWidth);
            if (message.imageHeight != null && $Object.hasOwnProperty.call(message, "imageHeight") && message.imageHeight !== 0)
                writer.uint32(/* id 6, wireType 0 =*/48).uint32(message.imageHeight);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Header message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.Header
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.Header & mrt.Header.$Shape} Header
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Header.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.Header();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.width = value;
                        else
                            delete message.width;
                        continue;
                    }
                case 2: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.height = value;
                        else
                            delete message.height;
                        continue;
                    }
                case 3: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.window = value;
                        else
                            delete message.window;
                        continue;
                    }
                case 4: {
                        if (wireType !== 2)
                            break;
                        message.placeholder = $root.mrt.Placeholder.decode(reader, reader.size(), $undefined, _depth + 1, message.placeholder);
                        continue;
                    }
                case 5: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.imageWidth = value;
                        else
                            delete message.imageWidth;
                        continue;
                    }
                case 6: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.imageHeight = value;
                        else
                            delete message.imageHeight;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return Header;
    })();

    mrt.Index = (function() {

        /**
         * Properties of an Index.
         * @typedef {Object} mrt.Index.$Properties
         * @property {string|null} [modelId] Index modelId
         * @property {Uint8Array|null} [modelHash] Index modelHash
         * @property {mrt.Layout.$Properties|null} [layout] Index layout
         * @property {mrt.PriorKind|null} [prior] Index prior
         * @property {number|null} [chunkCount] Index chunkCount
         * @property {Uint8Array|null} [chunkSizes] Index chunkSizes
         * @property {number|null} [chunkTokenStep] Index chunkTokenStep
         * @property {Array.<number>|null} [chunkTokens] Index chunkTokens
         * @property {Array.<number>|null} [chunkLayers] Index chunkLayers
         * @property {number|null} [chunkRule] Index chunkRule
         * @property {number|null} [coder] Index coder
         * @property {number|null} [chunkFraming] Index chunkFraming
         * @property {mrt.FinalInfo.$Properties|null} [final] Index final
         * @property {Uint8Array|null} [contentHash] Index contentHash
         * @property {string|null} [encoderOptions] Index encoderOptions
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of an Index.
         * @memberof mrt
         * @interface IIndex
         * @augments mrt.Index.$Properties
         * @deprecated Use mrt.Index.$Properties instead.
         */

        /**
         * Shape of an Index.
         * @typedef {mrt.Index.$Properties} mrt.Index.$Shape
         */

        /**
         * Constructs a new Index.
         * @memberof mrt
         * @classdesc Represents an Index.
         * @constructor
         * @param {mrt.Index.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Index = function (properties) {
            this.chunkTokens = [];
            this.chunkLayers = [];
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Index modelId.
         * @member {string} modelId
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.modelId = "";

        /**
         * Index modelHash.
         * @member {Uint8Array} modelHash
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.modelHash = $util.newBuffer([]);

        /**
         * Index layout.
         * @member {mrt.Layout.$Properties|null|undefined} layout
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.layout = null;

        /**
         * Index prior.
         * @member {mrt.PriorKind} prior
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.prior = 0;

        /**
         * Index chunkCount.
         * @member {number} chunkCount
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkCount = 0;

        /**
         * Index chunkSizes.
         * @member {Uint8Array} chunkSizes
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkSizes = $util.newBuffer([]);

        /**
         * Index chunkTokenStep.
         * @member {number} chunkTokenStep
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkTokenStep = 0;

        /**
         * Index chunkTokens.
         * @member {Array.<number>} chunkTokens
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkTokens = $util.emptyArray;

        /**
         * Index chunkLayers.
         * @member {Array.<number>} chunkLayers
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkLayers = $util.emptyArray;

        /**
         * Index chunkRule.
         * @member {number} chunkRule
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkRule = 0;

        /**
         * Index coder.
         * @member {number} coder
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.coder = 0;

        /**
         * Index chunkFraming.
         * @member {number} chunkFraming
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.chunkFraming = 0;

        /**
         * Index final.
         * @member {mrt.FinalInfo.$Properties|null|undefined} final
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.final = null;

        /**
         * Index contentHash.
         * @member {Uint8Array} contentHash
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.contentHash = $util.newBuffer([]);

        /**
         * Index encoderOptions.
         * @member {string} encoderOptions
         * @memberof mrt.Index
         * @instance
         */
        Index.prototype.encoderOptions = "";

        /**
         * Encodes the specified Index message. Does not implicitly {@link mrt.Index.verify|verify} messages.
         * @function encode
         * @memberof mrt.Index
         * @static
         * @param {mrt.Index.$Properties} message Index message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Index.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.modelId != null && $Object.hasOwnProperty.call(message, "modelId") && message.modelId !== "")
                writer.uint32(/* id 1, wireType 2 =*/10).string(message.modelId);
            if (message.modelHash != null && $Object.hasOwnProperty.call(message, "modelHash") && message.modelHash.length)
                writer.uint32(/* id 2, wireType 2 =*/18).bytes(message.modelHash);
            if (message.layout != null && $Object.hasOwnProperty.call(message, "layout"))
                $root.mrt.Layout.encode(message.layout, writer.uint32(/* id 3, wireType 2 =*/26).fork(), _depth + 1).ldelim();
            if (message.prior != null && $Object.hasOwnProperty.call(message, "prior") && message.prior !== 0)
                writer.uint32(/* id 4, wireType 0 =*/32).int32(message.prior);
            if (message.chunkCount != null && $Object.hasOwnProperty.call(message, "chunkCount") && message.chunkCount !== 0)
                writer.uint32(/* id 5, wireType 0 =*/40).uint32(message.chunkCount);
            if (message.chunkSizes != null && $Object.hasOwnProperty.call(message, "chunkSizes") && message.chunkSizes.length)
                writer.uint32(/* id 6, wireType 2 =*/50).bytes(message.chunkSizes);
            if (message.chunkTokenStep != null && $Object.hasOwnProperty.call(message, "chunkTokenStep") && message.chunkTokenStep !== 0)
                writer.uint32(/* id 7, wireType 0 =*/56).uint32(message.chunkTokenStep);
            if (message.chunkTokens != null && message.chunkTokens.length)
                writer.uint32(/* id 8, wireType 2 =*/66).uint32s(message.chunkTokens);
            if (message.final != null && $Object.hasOwnProperty.call(message, "final"))
                $root.mrt.FinalInfo.encode(message.final, writer.uint32(/* id 9, wireType 2 =*/74).fork(), _depth + 1).ldelim();
            if (message.contentHash != null && $Object.hasOwnProperty.call(message, "contentHash") && message.contentHash.length)
                writer.uint32(/* id 10, wireType 2 =*/82).bytes(message.contentHash);
            if (message.encoderOptions != null && $Object.hasOwnProperty.call(message, "encoderOptions") && message.encoderOptions !== "")
                writer.uint32(/* id 11, wireType 2 =*/90).string(message.encoderOptions);
            if (message.chunkLayers != null && message.chunkLayers.length)
                writer.uint32(/* id 12, wireType 2 =*/98).uint32s(message.chunkLayers);
            if (message.chunkRule != null && $Object.hasOwnProperty.call(message, "chunkRule") && message.chunkRule !== 0)
                writer.uint32(/* id 13, wireType 0 =*/104).uint32(message.chunkRule);
            if (message.coder != null && $Object.hasOwnProperty.call(message, "coder") && message.coder !== 0)
                writer.uint32(/* id 14, wireType 0 =*/112).uint32(message.coder);
            if (message.chunkFraming != null && $Object.hasOwnProperty.call(message, "chunkFraming") && message.chunkFraming !== 0)
                writer.uint32(/* id 15, wireType 0 =*/120).uint32(message.chunkFraming);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes an Index message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.Index
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.Index & mrt.Index.$Shape} Index
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Index.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.Index();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.modelId = value;
                        else
                            delete message.modelId;
                        continue;
                    }
                case 2: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.bytes()).length)
                            message.modelHash = value;
                        else
                            delete message.modelHash;
                        continue;
                    }
                case 3: {
                        if (wireType !== 2)
                            break;
                        message.layout = $root.mrt.Layout.decode(reader, reader.size(), $undefined, _depth + 1, message.layout);
                        continue;
                    }
                case 4: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.int32())
                            message.prior = value;
                        else
                            delete message.prior;
                        continue;
                    }
                case 5: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.chunkCount = value;
                        else
                            delete message.chunkCount;
                        continue;
                    }
                case 6: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.bytes()).length)
                            message.chunkSizes = value;
                        else
                            delete message.chunkSizes;
                        continue;
                    }
                case 7: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.chunkTokenStep = value;
                        else
                            delete message.chunkTokenStep;
                        continue;
                    }
                case 8: {
                        if (wireType === 2) {
                            if (!(message.chunkTokens && message.chunkTokens.length))
                                message.chunkTokens = [];
                            reader.uint32s(message.chunkTokens);
                            continue;
                        }
                        if (wireType !== 0)
                            break;
                        if (!(message.chunkTokens && message.chunkTokens.length))
                            message.chunkTokens = [];
                        message.chunkTokens.push(reader.uint32());
                        continue;
                    }
                case 12: {
                        if (wireType === 2) {
                            if (!(message.chunkLayers && message.chunkLayers.length))
                                message.chunkLayers = [];
                            reader.uint32s(message.chunkLayers);
                            continue;
                        }
                        if (wireType !== 0)
                            break;
                        if (!(message.chunkLayers && message.chunkLayers.length))
                            message.chunkLayers = [];
                        message.chunkLayers.push(reader.uint32());
                        continue;
                    }
                case 13: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.chunkRule = value;
                        else
                            delete message.chunkRule;
                        continue;
                    }
                case 14: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.coder = value;
                        else
                            delete message.coder;
                        continue;
                    }
                case 15: {
                        if (wireType !== 0)
                            break;
                        if (value = reader.uint32())
                            message.chunkFraming = value;
                        else
                            delete message.chunkFraming;
                        continue;
                    }
                case 9: {
                        if (wireType !== 2)
                            break;
                        message.final = $root.mrt.FinalInfo.decode(reader, reader.size(), $undefined, _depth + 1, message.final);
                        continue;
                    }
                case 10: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.bytes()).length)
                            message.contentHash = value;
                        else
                            delete message.contentHash;
                        continue;
                    }
                case 11: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.stringVerify()).length)
                            message.encoderOptions = value;
                        else
                            delete message.encoderOptions;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return Index;
    })();

    mrt.Chunk = (function() {

        /**
         * Properties of a Chunk.
         * @typedef {Object} mrt.Chunk.$Properties
         * @property {Uint8Array|null} [payload] Chunk payload
         * @property {number|null} [crc32] Chunk crc32
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Chunk.
         * @memberof mrt
         * @interface IChunk
         * @augments mrt.Chunk.$Properties
         * @deprecated Use mrt.Chunk.$Properties instead.
         */

        /**
         * Shape of a Chunk.
         * @typedef {mrt.Chunk.$Properties} mrt.Chunk.$Shape
         */

        /**
         * Constructs a new Chunk.
         * @memberof mrt
         * @classdesc Represents a Chunk.
         * @constructor
         * @param {mrt.Chunk.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Chunk = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Chunk payload.
         * @member {Uint8Array} payload
         * @memberof mrt.Chunk
         * @instance
         */
        Chunk.prototype.payload = $util.newBuffer([]);

        /**
         * Chunk crc32.
         * @member {number} crc32
         * @memberof mrt.Chunk
         * @instance
         */
        Chunk.prototype.crc32 = 0;

        /**
         * Encodes the specified Chunk message. Does not implicitly {@link mrt.Chunk.verify|verify} messages.
         * @function encode
         * @memberof mrt.Chunk
         * @static
         * @param {mrt.Chunk.$Properties} message Chunk message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Chunk.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.payload != null && $Object.hasOwnProperty.call(message, "payload") && message.payload.length)
                writer.uint32(/* id 1, wireType 2 =*/10).bytes(message.payload);
            if (message.crc32 != null && $Object.hasOwnProperty.call(message, "crc32") && message.crc32 !== 0)
                writer.uint32(/* id 2, wireType 5 =*/21).fixed32(message.crc32);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Chunk message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.Chunk
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.Chunk & mrt.Chunk.$Shape} Chunk
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Chunk.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.Chunk();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.bytes()).length)
                            message.payload = value;
                        else
                            delete message.payload;
                        continue;
                    }
                case 2: {
                        if (wireType !== 5)
                            break;
                        if (value = reader.fixed32())
                            message.crc32 = value;
                        else
                            delete message.crc32;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return Chunk;
    })();

    mrt.Final = (function() {

        /**
         * Properties of a Final.
         * @typedef {Object} mrt.Final.$Properties
         * @property {Uint8Array|null} [data] Final data
         * @property {number|null} [crc32] Final crc32
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */

        /**
         * Properties of a Final.
         * @memberof mrt
         * @interface IFinal
         * @augments mrt.Final.$Properties
         * @deprecated Use mrt.Final.$Properties instead.
         */

        /**
         * Shape of a Final.
         * @typedef {mrt.Final.$Properties} mrt.Final.$Shape
         */

        /**
         * Constructs a new Final.
         * @memberof mrt
         * @classdesc Represents a Final.
         * @constructor
         * @param {mrt.Final.$Properties=} [properties] Properties to set
         * @property {Array.<Uint8Array>} [$unknowns] Unknown fields preserved while decoding when enabled
         */
        const Final = function (properties) {
            if (properties)
                for (let keys = $Object.keys(properties), i = 0; i < keys.length; ++i)
                    if (properties[keys[i]] != null && keys[i] !== "__proto__")
                        this[keys[i]] = properties[keys[i]];
        };

        /**
         * Final data.
         * @member {Uint8Array} data
         * @memberof mrt.Final
         * @instance
         */
        Final.prototype.data = $util.newBuffer([]);

        /**
         * Final crc32.
         * @member {number} crc32
         * @memberof mrt.Final
         * @instance
         */
        Final.prototype.crc32 = 0;

        /**
         * Encodes the specified Final message. Does not implicitly {@link mrt.Final.verify|verify} messages.
         * @function encode
         * @memberof mrt.Final
         * @static
         * @param {mrt.Final.$Properties} message Final message or plain object to encode
         * @param {$protobuf.Writer} [writer] Writer to encode to
         * @returns {$protobuf.Writer} Writer
         */
        Final.encode = function (message, writer, _depth) {
            if (!writer)
                writer = $Writer.create();
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $util.recursionLimit)
                throw $Error("max depth exceeded");
            if (message.data != null && $Object.hasOwnProperty.call(message, "data") && message.data.length)
                writer.uint32(/* id 1, wireType 2 =*/10).bytes(message.data);
            if (message.crc32 != null && $Object.hasOwnProperty.call(message, "crc32") && message.crc32 !== 0)
                writer.uint32(/* id 2, wireType 5 =*/21).fixed32(message.crc32);
            if (message.$unknowns != null && $Object.hasOwnProperty.call(message, "$unknowns"))
                for (let i = 0; i < message.$unknowns.length; ++i)
                    writer.raw(message.$unknowns[i]);
            return writer;
        };

        /**
         * Decodes a Final message from the specified reader or buffer.
         * @function decode
         * @memberof mrt.Final
         * @static
         * @param {$protobuf.Reader|Uint8Array} reader Reader or buffer to decode from
         * @param {number} [length] Message length if known beforehand
         * @returns {mrt.Final & mrt.Final.$Shape} Final
         * @throws {Error} If the payload is not a reader or valid buffer
         * @throws {$protobuf.util.ProtocolError} If required fields are missing
         */
        Final.decode = function (reader, length, _end, _depth, _target) {
            if (!(reader instanceof $Reader))
                reader = $Reader.create(reader);
            if (_depth === $undefined)
                _depth = 0;
            if (_depth > $Reader.recursionLimit)
                throw $Error("max depth exceeded");
            let end, message, value;
            if (length === $undefined)
                end = reader.len;
            else {
                end = reader.pos + length;
                if (end > reader.len)
                    throw $RangeError("index out of range");
                length = reader.len;
                reader.len = end;
            }
            message = _target || new $root.mrt.Final();
            while (reader.pos < end) {
                let start = reader.pos;
                let tag = reader.tag();
                if (tag === _end) {
                    _end = $undefined;
                    break;
                }
                let wireType = tag & 7;
                switch (tag >>>= 3) {
                case 1: {
                        if (wireType !== 2)
                            break;
                        if ((value = reader.bytes()).length)
                            message.data = value;
                        else
                            delete message.data;
                        continue;
                    }
                case 2: {
                        if (wireType !== 5)
                            break;
                        if (value = reader.fixed32())
                            message.crc32 = value;
                        else
                            delete message.crc32;
                        continue;
                    }
                }
                reader.skipType(wireType, _depth, tag);
                if (!reader.discardUnknown) {
                    $util.makeProp(message, "$unknowns", false);
                    (message.$unknowns || (message.$unknowns = [])).push(reader.raw(start, reader.pos));
                }
            }
            if (length !== $undefined) {
                if (reader.pos !== end)
                    throw $RangeError("index out of range");
                reader.len = length;
            }
            if (_end !== $undefined)
                throw $Error("missing end group");
            return message;
        };

        return Final;
    })();

    return mrt;
})();

export {
  $root as default
};
